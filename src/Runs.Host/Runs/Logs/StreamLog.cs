using System.IO.Pipelines;
using LogLevel = Runs.Domain.LogLevel;

namespace Runs.Host.Runs.Logs;

/// <summary>The final event of a live log: how the run ended.</summary>
public sealed record RunEnded(string Status, int? ExitCode, DateTimeOffset? StartedOn, DateTimeOffset? CompletedOn);

/// <summary>The stream reached its lifetime: reconnect with <c>Last-Event-ID: AfterId</c> (the event's own id) to go on.</summary>
public sealed record StreamReconnect(long AfterId, string Detail);

/// <summary>The stream was ended by the server for a reason that reconnecting will not cure (the token is no longer valid).</summary>
public sealed record StreamError(int Status, string Title, string Detail);

/// <summary>
/// The query of a live log: a log read's, except that a reconnecting EventSource's <c>Last-Event-ID</c> (it repeats
/// the original URL) wins over <c>after_id</c>.
/// </summary>
public sealed record LiveLogQuery(LogLineStore.Range Range) : IQueryRequest<LiveLogQuery>
{
    public static (LiveLogQuery? Query, IResult? Refusal) Read(HttpRequest request)
    {
        string? lastEventId = request.Headers["Last-Event-ID"];
        var (range, problem) = ReadLogEndpoint.Parse(request, string.IsNullOrWhiteSpace(lastEventId) ? null : lastEventId.Trim());
        return (range is null ? null : new LiveLogQuery(range), problem);
    }

    public static IEnumerable<OpenApiParameter> Parameters => LogQuery.Parameters;
}

public static class StreamLogEndpoint
{
    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs/{job}/runs/{run}/log/stream", OperationId = "streamLog", Summary = "Follow a run's log live")]
    [Tags("Logs and telemetry")]
    [Produces("text/event-stream")]
    [EndpointDescription(Description)]
    [DisableRequestTimeout]
    [EnableRateLimiting(LiveStreamCaps.Name)]
    public static async Task<IResult> Get(
        string job, string run, LiveLogQuery query, HttpContext http, IDocumentStore store, NpgsqlDataSource database,
        RunChangeFeed feed, JsonBody json, IOptions<RunsOptions> options, TokenLookup tokens, TimeProvider clock,
        IHostApplicationLifetime lifetime)
    {
        await using (var session = store.QuerySession())
        {
            if (await RunLookup.FindAsync(session, job, run, http.RequestAborted) is not { } found)
            {
                return Problems.NotFound($"No run '{run}' in job '{job}'.");
            }
            if (Expiry.Gone(found) is { } gone)
            {
                return gone;
            }
        }
        var range = query.Range;
        var sse = options.Value.Sse;
        // The stream's clocks start before its headers go out: a client that sees the stream open and then lets
        // time pass must find every deadline counted from before that moment.
        var opened = clock.GetUtcNow();
        var endOfLife = opened + sse.MaxLifetime;
        var nextTokenCheck = opened + sse.TokenCheckInterval;
        var lastSent = opened;
        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.Body.FlushAsync(http.RequestAborted);
        if (HeadRequests.AskedForHeadersOnly(http))
        {
            // Otherwise a kept-alive connection would wait behind a stream it never reads, holding a stream slot.
            return Results.Empty;
        }

        // Subscribe before the first read, so a line committed between the read and the wait still signals.
        using var subscription = feed.Subscribe(run);
        var pages = options.Value.Logs;
        var events = new EventWriter(response.BodyWriter, json.SerializerOptions);
        var minimum = range.MinimumLevel ?? LogLevel.Debug;
        var tokenId = http.User.FindFirst(BearerTokens.TokenIdClaim)?.Value;
        // The last line id looked at, shown or not: the stream resumes after it and ends when the run has.
        var scanned = range.AfterId;
        var cancellation = http.RequestAborted;
        try
        {
            while (true)
            {
                var now = clock.GetUtcNow();
                if (lifetime.ApplicationStopping.IsCancellationRequested)
                {
                    // A host shutting down ends its streams at once, so it can stop without waiting on them; the
                    // client resumes on another host (or this one, restarted) from the same line.
                    events.Write("reconnect", scanned, new StreamReconnect(scanned,
                        $"This server is shutting down; reconnect with Last-Event-ID: {scanned} to go on."));
                    await events.FlushAsync(cancellation);
                    return Results.Empty;
                }
                if (now >= endOfLife)
                {
                    events.Write("reconnect", scanned, new StreamReconnect(scanned,
                        $"This stream reached its lifetime of {sse.MaxLifetime}; reconnect with Last-Event-ID: {scanned} to go on."));
                    await events.FlushAsync(cancellation);
                    return Results.Empty;
                }
                if (now >= nextTokenCheck)
                {
                    // Authentication ran once, when the stream opened; a revoked or expired token must not keep reading.
                    var refusal = tokenId is null ? TokenLookup.Unknown : await tokens.RefusalAsync(tokenId, cancellation);
                    if (refusal is not null)
                    {
                        events.Write("error", null, new StreamError(StatusCodes.Status401Unauthorized, "Unauthorized.", $"{refusal} This stream has ended."));
                        await events.FlushAsync(cancellation);
                        return Results.Empty;
                    }
                    nextTokenCheck = now + sse.TokenCheckInterval;
                }

                // One page at a time, from the shared tail when it covers the position, else from storage.
                if (!subscription.Tail.TryRead(scanned, pages.ReadPageLines, out var lines, out var state))
                {
                    lines = await LogLineStore.ReadAsync(database, run,
                        new LogLineStore.Range(AfterId: scanned, IncludeInternal: true, Limit: pages.ReadPageLines, MaxBytes: pages.ReadPageBytes), cancellation);
                    state = null;
                }
                if (lines.Count > 0)
                {
                    var shown = false;
                    foreach (var line in lines)
                    {
                        scanned = line.Id;
                        if (line.Level >= minimum && (range.IncludeInternal || !line.Internal))
                        {
                            events.Write("log", line.Id, LogLineView.From(line));
                            shown = true;
                        }
                    }
                    if (shown)
                    {
                        await events.FlushAsync(cancellation);
                        lastSent = clock.GetUtcNow();
                    }
                    // More may follow at once: read on before waiting.
                    continue;
                }

                if (state is null)
                {
                    await using var check = store.QuerySession();
                    state = await check.LoadAsync<Run>(run, cancellation);
                }
                if (state is not null && state.Status.IsTerminal() && state.LastLineId <= scanned)
                {
                    events.Write("state", null, new RunEnded(state.Status.Name(), state.ExitCode, state.StartedOn, state.CompletedOn));
                    await events.FlushAsync(cancellation);
                    return Results.Empty;
                }

                // Read the clock once: between two readings the wait could turn negative, which the timer refuses.
                var untilWake = Earliest(lastSent + sse.PingInterval, nextTokenCheck, endOfLife) - clock.GetUtcNow();
                if (untilWake > TimeSpan.Zero)
                {
                    using var timer = new CancellationTokenSource(untilWake, clock);
                    using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellation, timer.Token, lifetime.ApplicationStopping);
                    try
                    {
                        await subscription.Changes.ReadAsync(wait.Token);
                    }
                    catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
                    {
                    }
                }
                if (clock.GetUtcNow() >= lastSent + sse.PingInterval)
                {
                    events.Comment("ping");
                    await events.FlushAsync(cancellation);
                    lastSent = clock.GetUtcNow();
                }
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return Results.Empty;
        }
    }

    private static DateTimeOffset Earliest(params DateTimeOffset[] times) => times.Min();

    private const string Description = """
        Server-sent events: the backlog, then live lines as `event: log` (`id:` the line id, `data:` the line as JSON);
        a `: ping` comment after a quiet spell; when the run has ended and every line was sent, one `event: state`
        with `{status, exit_code, started_on, completed_on}`, then the stream closes. Resume with `Last-Event-ID`
        (or `after_id`): no line is lost or repeated.

        The server may also end a stream with one of two events. `event: reconnect` (its `id:` is where to resume,
        `data: {after_id, detail}`) when the stream reached its maximum lifetime or the server is shutting down: reconnect with that id as
        `Last-Event-ID`, as an EventSource does by itself. `event: error` (`data: {status, title, detail}`) when the
        token was revoked or expired: reconnecting needs a valid token. A token may hold a limited number of streams
        open at once, and so may the server: past either a new stream answers 429 with `Retry-After`.
        """;
}

/// <summary>Writes server-sent events straight into the response's buffer; a flush sends them.</summary>
internal sealed class EventWriter(PipeWriter output, JsonSerializerOptions options)
{
    private readonly Utf8JsonWriter _json = new(output);

    public void Write<T>(string name, long? id, T data)
    {
        Text(id is { } value ? $"id: {value.ToString(CultureInfo.InvariantCulture)}\nevent: {name}\ndata: " : $"event: {name}\ndata: ");
        // Compact JSON has no line breaks (those inside strings are escaped), so it fits one data line.
        _json.Reset(output);
        JsonSerializer.Serialize(_json, data, options);
        _json.Flush();
        Text("\n\n");
    }

    public void Comment(string text) => Text($": {text}\n\n");

    public async Task FlushAsync(CancellationToken cancellation) => await output.FlushAsync(cancellation);

    private void Text(string text) => Encoding.UTF8.GetBytes(text, output);
}

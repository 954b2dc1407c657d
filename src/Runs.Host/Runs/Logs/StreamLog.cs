using System.Globalization;
using System.Text;
using System.Text.Json;
using Marten;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Options;
using Npgsql;
using Runs.Domain;
using LogLevel = Runs.Domain.LogLevel;
using Runs.Host.Access;
using Runs.Host.Http;
using Runs.Host.Runs.Reading;
using Runs.Projections;
using Wolverine.Http;

namespace Runs.Host.Runs.Logs;

/// <summary>The final event of a live log: how the run ended.</summary>
public sealed record RunEnded(string Status, int? ExitCode, DateTimeOffset? StartedOn, DateTimeOffset? CompletedOn);

public static class StreamLogEndpoint
{
    [WolverineGet("/v1/jobs/{job}/runs/{run}/log/stream", OperationId = "streamLog", Summary = "Follow a run's log live")]
    [Tags("Logs and telemetry")]
    [Produces("text/event-stream")]
    [DisableRequestTimeout]
    public static async Task<IResult> Get(
        string job, string run, HttpContext http, IDocumentStore store, NpgsqlDataSource database,
        RunChangeFeed feed, JsonBody json, IOptions<RunsOptions> options)
    {
        if (http.User.Refuse(Scopes.RunsRead, job) is { } refused)
        {
            return refused;
        }
        await using var session = store.QuerySession();
        if (await RunLookup.FindAsync(session, job, run, http.RequestAborted) is not { } found)
        {
            return Problems.NotFound($"No run '{run}' in job '{job}'.");
        }
        if (Retention.Expiry.Gone(found) is { } gone)
        {
            return gone;
        }
        // A reconnecting EventSource sends Last-Event-ID and repeats the original URL: the header wins.
        string? lastEventId = http.Request.Headers["Last-Event-ID"];
        var (range, problem) = ReadLogEndpoint.Parse(http.Request, string.IsNullOrWhiteSpace(lastEventId) ? null : lastEventId.Trim());
        if (problem is not null)
        {
            return problem;
        }

        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.Body.FlushAsync(http.RequestAborted);

        // Subscribe before the first read, so a line committed between the read and the wait still signals.
        using var subscription = feed.Subscribe(run);
        var ping = options.Value.Sse.PingInterval;
        var minimum = range!.MinimumLevel ?? LogLevel.Debug;
        // The last line id looked at, shown or not: the stream resumes after it and ends when the run has.
        var scanned = range.AfterId;
        var cancellation = http.RequestAborted;
        try
        {
            while (true)
            {
                if (!subscription.Tail.TryRead(scanned, out var lines, out var state))
                {
                    lines = [];
                    await foreach (var line in LogLineStore.ReadAsync(database, run, new LogLineStore.Range(AfterId: scanned, IncludeInternal: true), cancellation))
                    {
                        lines.Add(line);
                    }
                    state = null;
                }
                foreach (var line in lines)
                {
                    scanned = line.Id;
                    if (line.Level >= minimum && (range.IncludeInternal || !line.Internal))
                    {
                        var data = JsonSerializer.Serialize(LogLineView.From(line), json.SerializerOptions);
                        await response.WriteAsync($"id: {line.Id.ToString(CultureInfo.InvariantCulture)}\nevent: log\ndata: {data}\n\n", cancellation);
                    }
                }
                await response.Body.FlushAsync(cancellation);

                if (state is null)
                {
                    await using var check = store.QuerySession();
                    state = await check.LoadAsync<Run>(run, cancellation);
                }
                if (state is not null && state.Status.IsTerminal() && state.LastLineId <= scanned)
                {
                    var ended = new RunEnded(state.Status.Name(), state.ExitCode, state.StartedOn, state.CompletedOn);
                    await response.WriteAsync($"event: state\ndata: {JsonSerializer.Serialize(ended, json.SerializerOptions)}\n\n", cancellation);
                    await response.Body.FlushAsync(cancellation);
                    return Results.Empty;
                }

                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                wait.CancelAfter(ping);
                try
                {
                    await subscription.Changes.ReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
                {
                    await response.WriteAsync(": ping\n\n", cancellation);
                    await response.Body.FlushAsync(cancellation);
                }
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return Results.Empty;
        }
    }
}

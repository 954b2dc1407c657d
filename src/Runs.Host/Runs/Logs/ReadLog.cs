using LogLevel = Runs.Domain.LogLevel;

namespace Runs.Host.Runs.Logs;

/// <summary>The query of a log read: <c>after_id</c>, <c>limit</c> or <c>tail</c>, <c>level</c>.</summary>
public sealed record LogQuery(LogLineStore.Range Range) : IQueryRequest<LogQuery>
{
    public static (LogQuery? Query, IResult? Refusal) Read(HttpRequest request)
    {
        var (range, problem) = ReadLogEndpoint.Parse(request);
        return (range is null ? null : new LogQuery(range), problem);
    }

    public static IEnumerable<OpenApiParameter> Parameters =>
    [
        QueryParameters.Of("after_id", "Only lines after this line id.", JsonSchemaType.Integer),
        QueryParameters.Of("limit", $"The first N lines (at most {ReadLogEndpoint.MaxLimit}).", JsonSchemaType.Integer),
        QueryParameters.Of("tail", $"The last N lines (at most {ReadLogEndpoint.MaxLimit}); not with 'limit'.", JsonSchemaType.Integer),
        QueryParameters.Of("level", "The lowest level of the lines read: debug, info, warn or error."),
    ];
}

public static class ReadLogEndpoint
{
    public const int MaxLimit = 100_000;

    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs/{job}/runs/{run}/log", OperationId = "readLog", Summary = "Read a run's log")]
    [Tags("Logs and telemetry")]
    [Produces("text/plain", "application/json")]
    [ProducesResponseType<LogLineView[]>(StatusCodes.Status200OK, "application/json")]
    [DisableRequestTimeout]
    public static Task<IResult> Get(LogQuery query, Run run, HttpContext http, NpgsqlDataSource database, JsonBody json, IOptions<RunsOptions> options) =>
        WriteAsync(http, run, query.Range, database, json, options.Value.Logs);

    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs/{job}/log", OperationId = "readJobLog", Summary = "Read the log of a job's latest run")]
    [Tags("Logs and telemetry")]
    [Produces("text/plain", "application/json")]
    [ProducesResponseType<LogLineView[]>(StatusCodes.Status200OK, "application/json")]
    [DisableRequestTimeout]
    public static async Task<IResult> GetLatest(
        string job, LogQuery query, HttpContext http, IQuerySession session, NpgsqlDataSource database, JsonBody json, IOptions<RunsOptions> options)
    {
        var latest = JobName.IsValid(job)
            ? await session.Query<Run>().Where(r => r.Job == job)
                .OrderByDescending(r => r.CreatedOn).ThenByDescending(r => r.Id).FirstOrDefaultAsync(http.RequestAborted)
            : null;
        if (latest is null)
        {
            return Problems.NotFound($"Job '{job}' has no runs.");
        }
        http.Response.Headers["Runs-Run-Id"] = latest.Id;
        return await WriteAsync(http, latest, query.Range, database, json, options.Value.Logs);
    }

    /// <summary>Parses after_id, limit, tail and level; a problem when one is malformed.</summary>
    public static (LogLineStore.Range? Range, IResult? Problem) Parse(HttpRequest request, string? resumeAfter = null)
    {
        var query = request.Query;
        long afterId = 0;
        var after = resumeAfter ?? (query.TryGetValue("after_id", out var given) ? given.ToString() : null);
        if (after is not null && !long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out afterId))
        {
            return (null, Problems.Invalid(resumeAfter is null ? "after_id" : "Last-Event-ID", "The line id to resume after must be a non-negative integer."));
        }
        int? limit = null, tail = null;
        foreach (var (name, set) in new (string, Action<int>)[] { ("limit", v => limit = v), ("tail", v => tail = v) })
        {
            if (!query.TryGetValue(name, out var text))
            {
                continue;
            }
            if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) || value <= 0)
            {
                return (null, Problems.Invalid(name, $"'{name}' must be a positive integer."));
            }
            set(Math.Min(value, MaxLimit));
        }
        if (limit is not null && tail is not null)
        {
            return (null, Problems.Invalid("tail", "Give 'limit' (the first N lines) or 'tail' (the last N), not both."));
        }
        LogLevel? level = null;
        if (query.TryGetValue("level", out var levelText))
        {
            if (!LogLevels.TryParse(levelText, out var parsed))
            {
                return (null, Problems.Invalid("level", "'level' must be debug, info, warn or error."));
            }
            level = parsed;
        }
        var internalLines = request.HttpContext.User.HasClaim(BearerTokens.ScopeClaim, Scopes.Admin);
        return (new LogLineStore.Range(afterId, level, internalLines, limit, tail), null);
    }

    /// <summary>
    /// Whole logs are transfers: exempt from the request time-out (Kestrel's minimum data rate bounds a slow
    /// reader instead) and read a page at a time, so no connection waits on the client.
    /// </summary>
    private static async Task<IResult> WriteAsync(HttpContext http, Run run, LogLineStore.Range range, NpgsqlDataSource database, JsonBody json, LogsOptions pages)
    {
        if (Expiry.Gone(run) is { } gone)
        {
            return gone;
        }
        var lines = LogLineStore.PagesAsync(database, run.Id, range, pages.ReadPageLines, pages.ReadPageBytes, http.RequestAborted);
        var response = http.Response;
        if (Negotiation.WantsJson(http.Request))
        {
            response.ContentType = "application/json; charset=utf-8";
            await using var writer = new Utf8JsonWriter(response.BodyWriter);
            writer.WriteStartArray();
            await foreach (var page in lines)
            {
                foreach (var line in page)
                {
                    JsonSerializer.Serialize(writer, LogLineView.From(line), json.SerializerOptions);
                    if (writer.BytesPending > 32 * 1024)
                    {
                        await writer.FlushAsync(http.RequestAborted);
                    }
                }
            }
            writer.WriteEndArray();
            await writer.FlushAsync(http.RequestAborted);
        }
        else
        {
            response.ContentType = "text/plain; charset=utf-8";
            await using var text = new StreamWriter(response.Body, new UTF8Encoding(false), 32 * 1024);
            await foreach (var page in lines)
            {
                foreach (var line in page)
                {
                    await text.WriteAsync(LogLineView.Text(line));
                }
            }
        }
        return Results.Empty;
    }
}

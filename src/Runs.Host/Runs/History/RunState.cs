
namespace Runs.Host.Runs.History;

/// <summary>The query of <c>GET .../state</c>: either <c>version</c> (an event number) or <c>at</c> (an RFC 3339 time).</summary>
public sealed record RunStateQuery(long? Version, DateTimeOffset? At) : IQueryRequest<RunStateQuery>
{
    public static (RunStateQuery? Query, IResult? Refusal) Read(HttpRequest request)
    {
        var query = request.Query;
        var hasVersion = query.TryGetValue("version", out var versionText);
        var hasAt = query.TryGetValue("at", out var atText);
        if (hasVersion == hasAt)
        {
            return (null, Problems.Invalid("version", "Give either 'version' (an event number) or 'at' (an RFC 3339 time)."));
        }
        if (hasVersion)
        {
            return long.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version >= 1
                ? (new RunStateQuery(version, null), null)
                : (null, Problems.Invalid("version", "'version' must be a positive integer."));
        }
        return Rfc3339Converter.TryParse(atText, out var at)
            ? (new RunStateQuery(null, at), null)
            : (null, Problems.Invalid("at", "'at' must be an RFC 3339 time such as 2026-06-13T08:15:02Z."));
    }

    public static IEnumerable<OpenApiParameter> Parameters =>
    [
        QueryParameters.Of("version", "The run after this event (1 is the trigger). Give this or 'at'.", JsonSchemaType.Integer),
        QueryParameters.Of("at", "The run as the ledger had recorded it by this RFC 3339 time (the events whose timestamp is at or before it). Give this or 'version'."),
    ];
}

public static class RunStateEndpoint
{
    /// <summary>The run as it stood after event <c>version</c>, or at time <c>at</c>, folded live from its stream.</summary>
    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs/{job}/runs/{run}/state", OperationId = "getRunState", Summary = "Get a run as it stood at a version or time")]
    [Tags("Auditing")]
    [ProducesResponseType<RunView>(StatusCodes.Status200OK)]
    public static async Task<IResult> Get(RunStateQuery query, Run run, HttpContext http, IQuerySession session, RetentionPolicy retention)
    {
        if (query.Version is { } version)
        {
            if (version > run.Version)
            {
                return Problems.NotFound($"Run '{run.Id}' has {run.Version} events; there is no version {version}.");
            }
            var then = await session.Events.AggregateStreamAsync<Run>(run.Id, version: version, token: http.RequestAborted);
            return Results.Ok(RunView.From(then!, retention));
        }
        var at = query.At!.Value;
        if (await session.Events.AggregateStreamAsync<Run>(run.Id, timestamp: at, token: http.RequestAborted) is { } state)
        {
            return Results.Ok(RunView.From(state, retention));
        }
        // Its created_on is taken as the trigger is decided, a little before the ledger records it: say when that
        // was, as the first millisecond an 'at' finds it in (the ledger keeps microseconds).
        var recorded = (await session.Events.FetchStreamAsync(run.Id, version: 1, token: http.RequestAborted))[0].Timestamp;
        var partial = recorded.Ticks % TimeSpan.TicksPerMillisecond;
        var by = partial == 0 ? recorded : recorded.AddTicks(TimeSpan.TicksPerMillisecond - partial);
        return Problems.NotFound($"Run '{run.Id}' was not recorded yet at {Rfc3339Converter.Text(at)}; it was by {Rfc3339Converter.Text(by)}.");
    }
}


namespace Runs.Host.Runs.History;

public static class RunStateEndpoint
{
    /// <summary>The run as it stood after event <c>version</c>, or at time <c>at</c>, folded live from its stream.</summary>
    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs/{job}/runs/{run}/state", OperationId = "getRunState", Summary = "Get a run as it stood at a version or time")]
    [Tags("Auditing")]
    [ProducesResponseType<RunView>(StatusCodes.Status200OK)]
    public static async Task<IResult> Get(string job, string run, HttpContext http, IQuerySession session, RetentionPolicy retention)
    {
        if (await RunLookup.FindAsync(session, job, run, http.RequestAborted) is not { } current)
        {
            return Problems.NotFound($"No run '{run}' in job '{job}'.");
        }

        var query = http.Request.Query;
        var hasVersion = query.TryGetValue("version", out var versionText);
        var hasAt = query.TryGetValue("at", out var atText);
        if (hasVersion == hasAt)
        {
            return Problems.Invalid("version", "Give either 'version' (an event number) or 'at' (an RFC 3339 time).");
        }

        Run? state;
        if (hasVersion)
        {
            if (!long.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version < 1)
            {
                return Problems.Invalid("version", "'version' must be a positive integer.");
            }
            if (version > current.Version)
            {
                return Problems.NotFound($"Run '{run}' has {current.Version} events; there is no version {version}.");
            }
            state = await session.Events.AggregateStreamAsync<Run>(run, version: version, token: http.RequestAborted);
        }
        else
        {
            if (!Rfc3339Converter.TryParse(atText, out var at))
            {
                return Problems.Invalid("at", "'at' must be an RFC 3339 time such as 2026-06-13T08:15:02Z.");
            }
            state = await session.Events.AggregateStreamAsync<Run>(run, timestamp: at, token: http.RequestAborted);
            if (state is null)
            {
                return Problems.NotFound($"Run '{run}' did not exist yet at {Rfc3339Converter.Text(at)}.");
            }
        }
        return Results.Ok(RunView.From(state!, retention));
    }
}

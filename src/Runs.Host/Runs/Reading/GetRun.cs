
namespace Runs.Host.Runs.Reading;

public static class GetRunEndpoint
{
    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs/{job}/runs/{run}", OperationId = "getRun", Summary = "Get a run")]
    [Tags("Reading runs")]
    [ProducesResponseType<RunView>(StatusCodes.Status200OK)]
    public static async Task<IResult> Get(string job, string run, HttpContext http, ClaimsPrincipal user, IQuerySession session, RetentionPolicy retention)
    {
        var found = await RunLookup.FindAsync(session, job, run, http.RequestAborted);
        if (found is null)
        {
            return Problems.NotFound($"No run '{run}' in job '{job}'.");
        }
        return ETags.NotModified(http, found.Version) ? Results.StatusCode(StatusCodes.Status304NotModified)
            : Results.Ok(RunView.From(found, retention));
    }
}

public static class RunLookup
{
    /// <summary>The run, if its id is well-formed and it belongs to the job; otherwise null (404).</summary>
    public static async Task<Run?> FindAsync(IQuerySession session, string job, string run, CancellationToken cancellation)
    {
        if (!JobName.IsValid(job) || !RunId.IsValid(run))
        {
            return null;
        }
        var found = await session.LoadAsync<Run>(run, cancellation);
        return found?.Job == job ? found : null;
    }
}

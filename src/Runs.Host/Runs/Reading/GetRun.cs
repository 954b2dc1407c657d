
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

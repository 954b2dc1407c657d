
namespace Runs.Host.Runs.Reading;

public static class GetRunStatusEndpoint
{
    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs/{job}/runs/{run}/status", OperationId = "getRunStatus", Summary = "Get a run's status word")]
    [Tags("Reading runs")]
    [Produces("text/plain")]
    public static async Task<IResult> Get(string job, string run, HttpContext http, IQuerySession session)
    {
        if (await RunLookup.FindAsync(session, job, run, http.RequestAborted) is not { } found)
        {
            return Problems.NotFound($"No run '{run}' in job '{job}'.");
        }
        return ETags.NotModified(http, found.Version)
            ? Results.StatusCode(StatusCodes.Status304NotModified)
            : Results.Text(found.Status.Name() + "\n", "text/plain; charset=utf-8");
    }
}

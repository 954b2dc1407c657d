
namespace Runs.Host.Runs.Reading;

public static class GetRunStatusEndpoint
{
    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs/{job}/runs/{run}/status", OperationId = "getRunStatus", Summary = "Get a run's status word")]
    [Tags("Reading runs")]
    [Produces("text/plain")]
    public static IResult Get(Run run, HttpContext http) =>
        ETags.NotModified(http, run.Version)
            ? Results.StatusCode(StatusCodes.Status304NotModified)
            : Results.Text(run.Status.Name() + "\n", "text/plain; charset=utf-8");
}

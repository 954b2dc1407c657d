
namespace Runs.Host.Runs.Reading;

public static class GetRunEndpoint
{
    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs/{job}/runs/{run}", OperationId = "getRun", Summary = "Get a run")]
    [Tags("Reading runs")]
    [ProducesResponseType<RunView>(StatusCodes.Status200OK)]
    public static IResult Get(Run run, HttpContext http, RetentionPolicy retention) =>
        ETags.NotModified(http, run.Version) ? Results.StatusCode(StatusCodes.Status304NotModified)
            : Results.Ok(RunView.From(run, retention));
}

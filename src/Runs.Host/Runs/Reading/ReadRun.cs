
namespace Runs.Host.Runs.Reading;

/// <summary>One run read three ways: the whole run, its status word, its short facts. Each answers 304 to a current ETag.</summary>
[Authorize(Scopes.RunsRead)]
[Tags("Reading runs")]
public static class ReadRunEndpoints
{
    [WolverineGet("/v1/jobs/{job}/runs/{run}", OperationId = "getRun", Summary = "Get a run")]
    [ProducesResponseType<RunView>(StatusCodes.Status200OK)]
    public static IResult Get(Run run, HttpContext http, RetentionPolicy retention) =>
        ETags.NotModified(http, run.Version) ? Results.StatusCode(StatusCodes.Status304NotModified)
            : Results.Ok(RunView.From(run, retention));

    [WolverineGet("/v1/jobs/{job}/runs/{run}/status", OperationId = "getRunStatus", Summary = "Get a run's status word")]
    [Produces("text/plain")]
    public static IResult GetStatus(Run run, HttpContext http) =>
        ETags.NotModified(http, run.Version)
            ? Results.StatusCode(StatusCodes.Status304NotModified)
            : Results.Text(run.Status.Name() + "\n", "text/plain; charset=utf-8");

    [WolverineGet("/v1/jobs/{job}/runs/{run}/stats", OperationId = "getRunStats", Summary = "Get a run's stats")]
    [Produces("text/plain", "application/json")]
    [ProducesResponseType<RunStats>(StatusCodes.Status200OK, "application/json")]
    public static IResult GetStats(Run run, HttpContext http)
    {
        if (ETags.NotModified(http, run.Version))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }
        var stats = RunStats.From(run);
        return Negotiation.WantsJson(http.Request)
            ? Results.Ok(stats)
            : Results.Text(stats.ToText(), "text/plain; charset=utf-8");
    }
}

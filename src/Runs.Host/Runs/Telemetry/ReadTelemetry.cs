
namespace Runs.Host.Runs.Telemetry;

public static class ReadTelemetryEndpoint
{
    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs/{job}/runs/{run}/telemetry", OperationId = "readTelemetry", Summary = "Read a run's telemetry")]
    [Tags("Logs and telemetry")]
    [ProducesResponseType<TelemetryView>(StatusCodes.Status200OK)]
    public static async Task<IResult> Get(Run run, HttpContext http, IQuerySession session)
    {
        if (ETags.NotModified(http, run.Version))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }
        var series = await session.LoadAsync<TelemetrySeries>(run.Id, http.RequestAborted);
        return Results.Ok(new TelemetryView(run.TelemetrySummary, series?.Samples ?? []));
    }
}

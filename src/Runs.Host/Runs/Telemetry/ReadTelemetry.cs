
namespace Runs.Host.Runs.Telemetry;

public static class ReadTelemetryEndpoint
{
    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs/{job}/runs/{run}/telemetry", OperationId = "readTelemetry", Summary = "Read a run's telemetry")]
    [Tags("Logs and telemetry")]
    [ProducesResponseType<TelemetryView>(StatusCodes.Status200OK)]
    public static async Task<IResult> Get(string job, string run, HttpContext http, IQuerySession session)
    {
        if (await RunLookup.FindAsync(session, job, run, http.RequestAborted) is not { } found)
        {
            return Problems.NotFound($"No run '{run}' in job '{job}'.");
        }
        if (ETags.NotModified(http, found.Version))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }
        var series = await session.LoadAsync<TelemetrySeries>(run, http.RequestAborted);
        return Results.Ok(new TelemetryView(found.TelemetrySummary, series?.Samples ?? []));
    }
}

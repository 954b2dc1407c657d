
namespace Runs.Host.Ledger;

/// <summary>
/// Exports, streamed as they are read. They need <c>admin</c>: they carry internal lines and secret values
/// (still sealed). They take as long as the runs take to read, so no request time-out applies.
/// </summary>
public static class ExportEndpoints
{
    [Authorize(Scopes.Admin)]
    [WolverineGet("/v1/jobs/{job}/runs/{run}/export", OperationId = "exportRun", Summary = "Export a run (runs-export/1 NDJSON)")]
    [Tags("Ledger")]
    [DisableRequestTimeout]
    [Produces(RunExport.MediaType)]
    public static Task<IResult> Run(Run run, HttpContext http, NpgsqlDataSource database, TimeProvider clock) =>
        StreamAsync(http, database, [run.Id], $"{run.Id}.ndjson", clock);

    [Authorize(Scopes.Admin)]
    [WolverineGet("/v1/jobs/{job}/export", OperationId = "exportJob", Summary = "Export a job's runs (runs-export/1 NDJSON)")]
    [Tags("Ledger")]
    [DisableRequestTimeout]
    [Produces(RunExport.MediaType)]
    public static async Task<IResult> Job(string job, HttpContext http, NpgsqlDataSource database, TimeProvider clock)
    {
        var runs = JobName.IsValid(job) ? await StoredRunAudit.JobRunsAsync(database, job, http.RequestAborted) : [];
        if (runs.Count == 0)
        {
            return Problems.NotFound($"No job '{job}'.");
        }
        return await StreamAsync(http, database, runs, $"{job}.ndjson", clock);
    }

    [Authorize(Scopes.Admin)]
    [WolverineGet("/v1/export", OperationId = "exportAll", Summary = "Export every run (runs-export/1 NDJSON)")]
    [Tags("Ledger")]
    [DisableRequestTimeout]
    [Produces(RunExport.MediaType)]
    public static async Task<IResult> All(HttpContext http, NpgsqlDataSource database, TimeProvider clock)
    {
        return await StreamAsync(http, database, await StoredRunAudit.AllRunsAsync(database, http.RequestAborted), "runs.ndjson", clock);
    }

    public static async Task<List<string>> RunOrNothingAsync(IDocumentStore store, string run)
    {
        await using var session = store.QuerySession();
        return RunId.IsValid(run) && await session.LoadAsync<Run>(run) is not null ? [run] : [];
    }

    private static async Task<IResult> StreamAsync(HttpContext http, NpgsqlDataSource database, IReadOnlyList<string> runs, string fileName, TimeProvider clock)
    {
        http.Response.ContentType = RunExport.MediaType;
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}\"";
        await RunExport.WriteAsync(http.Response.Body, database, runs, clock.GetUtcNow(), null, http.RequestAborted);
        return Results.Empty;
    }
}

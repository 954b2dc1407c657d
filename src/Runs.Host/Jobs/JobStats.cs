
namespace Runs.Host.Jobs;

public sealed record JobList(IReadOnlyList<JobAggregate> Jobs);

public static class JobStatsEndpoint
{
    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs/{job}/stats", OperationId = "getJobStats", Summary = "Get a job's aggregate")]
    [Tags("Jobs and statistics")]
    [ProducesResponseType<JobAggregate>(StatusCodes.Status200OK)]
    public static async Task<IResult> Get(string job, HttpContext http, NpgsqlDataSource database)
    {
        var found = JobName.IsValid(job)
            ? await JobStatistics.JobsAsync(database, job, JobScope.From(["*"]), http.RequestAborted)
            : [];
        return found.Count == 0 ? Problems.NotFound($"No job '{job}': a job exists once it has a run.") : Results.Ok(found[0]);
    }

    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs", OperationId = "listJobs", Summary = "List jobs")]
    [Tags("Jobs and statistics")]
    [ProducesResponseType<JobList>(StatusCodes.Status200OK)]
    public static async Task<IResult> List(HttpContext http, NpgsqlDataSource database)
    {
        var scope = JobScope.From(http.User.FindAll(BearerTokens.JobClaim).Select(c => c.Value));
        return Results.Ok(new JobList(await JobStatistics.JobsAsync(database, null, scope, http.RequestAborted)));
    }
}

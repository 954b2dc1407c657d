
namespace Runs.Host.Runs.Shared;

public static class RunLookup
{
    /// <summary>The run the route names (<c>{job}</c>, <c>{run}</c>), or the 404 that says there is none.</summary>
    public static async Task<(Run? Run, IResult? Refusal)> FindAsync(HttpContext http, IQuerySession session)
    {
        var job = (string)http.Request.RouteValues["job"]!;
        var run = (string)http.Request.RouteValues["run"]!;
        return await FindAsync(session, job, run, http.RequestAborted) is { } found ? (found, null) : (null, NotFound(job, run));
    }

    public static IResult NotFound(string job, string run) => Problems.NotFound($"No run '{run}' in job '{job}'.");

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

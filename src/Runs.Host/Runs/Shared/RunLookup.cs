
namespace Runs.Host.Runs.Shared;

public static class RunLookup
{
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

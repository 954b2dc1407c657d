
namespace Runs.Projections;

/// <summary>
/// Tells every host that a run changed, through PostgreSQL NOTIFY queued in the write's own
/// transaction: listeners hear of a change only once it is committed, and on any host.
/// </summary>
public static class RunChanges
{
    public const string Channel = "runs_changed";

    /// <summary>
    /// NOTIFY takes no parameters, so the payload is a literal: only a well-formed run id (digits,
    /// lowercase hex and dashes) is ever put there. <c>select pg_notify(...)</c> would return a row,
    /// which Marten's batched unit of work does not expect.
    /// </summary>
    public static void Queue(IDocumentSession session, string runId)
    {
        if (!RunId.IsValid(runId))
        {
            throw new ArgumentException($"'{runId}' is not a run id.", nameof(runId));
        }
        session.QueueSqlCommand($"notify {Channel}, '{runId}'");
    }
}

/// <summary>
/// The change notice follows the events: whatever appends to a run — an endpoint, the retention sweep, an
/// import — notifies in the same transaction, without having to remember to.
/// </summary>
public sealed class RunChangeNotices : DocumentSessionListenerBase
{
    public override Task BeforeSaveChangesAsync(IDocumentSession session, CancellationToken token)
    {
        foreach (var stream in session.PendingChanges.Streams().Where(s => s.Events.Count > 0 && s.Key is not null))
        {
            RunChanges.Queue(session, stream.Key!);
        }
        return Task.CompletedTask;
    }
}


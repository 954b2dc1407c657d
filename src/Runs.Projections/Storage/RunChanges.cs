using System.Threading.Channels;
using JasperFx.Events;
using Marten.Services;
using Microsoft.Extensions.Logging;

namespace Runs.Projections;

/// <summary>
/// Tells every host that a run changed, through PostgreSQL NOTIFY on <see cref="Channel"/>, after the change
/// commits: listeners hear of a change only once it is committed, and on any host. Not inside the write's
/// transaction: PostgreSQL serialises notifying commits through their WAL flush, which would cap how many
/// writes per second commit and defeat group commit. A notice lost in a crash between commit and notify
/// delays a live reader until the run's next change; readers continue from the last line id they saw, so
/// nothing is lost or repeated.
/// </summary>
public sealed class RunChanges : IAsyncDisposable
{
    public const string Channel = "runs_changed";

    private readonly NpgsqlDataSource _database;
    private readonly ILogger<RunChanges> _logger;
    private readonly Channel<string> _changed = System.Threading.Channels.Channel.CreateUnbounded<string>(new() { SingleReader = true });
    private readonly Task _sending;

    public RunChanges(NpgsqlDataSource database, ILogger<RunChanges> logger)
    {
        _database = database;
        _logger = logger;
        _sending = Task.Run(SendAsync);
    }

    private static readonly AsyncLocal<HashSet<string>?> Held = new();

    public void Changed(string runId)
    {
        if (Held.Value is { } held)
        {
            held.Add(runId);
            return;
        }
        _changed.Writer.TryWrite(runId);
    }

    /// <summary>
    /// Keeps the changes this flow announces until <see cref="Hold.Release"/>: for writes in a transaction that
    /// Marten does not commit itself (a group commit), its listeners run before the commit that matters.
    /// </summary>
    public Hold HoldUntilCommit()
    {
        var held = new HashSet<string>();
        Held.Value = held;
        return new Hold(this, held);
    }

    public sealed class Hold(RunChanges changes, HashSet<string> held) : IDisposable
    {
        public void Release()
        {
            foreach (var runId in held)
            {
                changes._changed.Writer.TryWrite(runId);
            }
            held.Clear();
        }

        public void Dispose() => Held.Value = null;
    }

    /// <summary>
    /// One statement per batch: changes that arrive while a notice is being sent go out together in the next,
    /// so a busy host sends few notices and an idle one adds no delay.
    /// </summary>
    private async Task SendAsync()
    {
        var batch = new HashSet<string>();
        while (await _changed.Reader.WaitToReadAsync())
        {
            while (_changed.Reader.TryRead(out var runId))
            {
                batch.Add(runId);
            }
            try
            {
                await using var notify = _database.CreateCommand($"select pg_notify('{Channel}', id) from unnest($1::text[]) as id");
                notify.Parameters.Add(new NpgsqlParameter { Value = batch.ToArray() });
                await notify.ExecuteNonQueryAsync();
            }
            catch (Exception e)
            {
                // Whatever failed, the loop goes on: live readers catch up on the run's next change.
                _logger.LogWarning(e, "Change notices for {Count} runs could not be sent.", batch.Count);
            }
            batch.Clear();
        }
    }

    /// <summary>Sends what is queued before the process ends (a command line import, a host stopping).</summary>
    public async ValueTask DisposeAsync()
    {
        _changed.Writer.TryComplete();
        await _sending;
    }
}

/// <summary>
/// The change notice follows the events: whatever appends to a run — an endpoint, the retention sweep, an
/// import — is announced once its transaction commits, without having to remember to.
/// </summary>
public sealed class RunChangeNotices(RunChanges changes) : DocumentSessionListenerBase
{
    public override Task AfterCommitAsync(IDocumentSession session, IChangeSet commit, CancellationToken token)
    {
        foreach (var run in commit.GetEvents().Select(e => e.StreamKey).OfType<string>().Distinct())
        {
            changes.Changed(run);
        }
        return Task.CompletedTask;
    }
}

using System.Text.Json;
using Runs.Domain.Ledger;

namespace Runs.Projections.Ledger;

/// <summary>
/// Chains every event any session appends — an HTTP write, the retention sweep, an import — in the same
/// transaction: Marten calls this after it has given the events their versions, timestamps and metadata,
/// and before it sends anything. The canonical encoding is made here; PostgreSQL hashes it onto the run's
/// head in the one statement that stores the links, so chaining costs no extra round trip. A run whose head
/// is missing (written before the ledger; see <c>ledger chain</c>) is appended to unchained rather than
/// refused, and <c>verify</c> names those events.
/// </summary>
public sealed class LedgerChain : DocumentSessionListenerBase
{
    private static readonly JsonDocumentOptions Deep = new() { MaxDepth = 256 };

    private static readonly string Insert =
        "with recursive link(i, hash, previous) as (" +
        $"select 0, (select hash from {RunsStore.Schema}.{LedgerTables.Links} where run_id = ? and version = ?::bigint - 1), null::text " +
        "union all " +
        "select l.i + 1, encode(sha256(convert_to(coalesce(l.hash, ''), 'UTF8') || (?::bytea[])[l.i + 1]), 'hex'), l.hash from link l where l.i < ?) " +
        $"insert into {RunsStore.Schema}.{LedgerTables.Links} (run_id, version, hash, previous_hash) " +
        "select ?, ?::bigint + i - 1, hash, previous from link " +
        "where i > 0 and (?::bigint = 1 or exists (select 1 from link where i = 0 and hash is not null))";

    public override Task BeforeSaveChangesAsync(IDocumentSession session, CancellationToken token)
    {
        foreach (var stream in session.PendingChanges.Streams().Where(s => s.Events.Count > 0))
        {
            var first = stream.Events[0].Version;
            if (first < 1 || stream.Key is null)
            {
                // Quick appends number events only when the stream's version is known (a fetched or a new stream).
                throw new InvalidOperationException(
                    $"Events for '{stream.Key ?? stream.Id.ToString()}' were appended without the stream's version; the ledger chains only appends to a stream fetched for writing, or a new one.");
            }
            var canonical = stream.Events
                .Select(e => EventChain.Canonical(Chained(session, stream.Key, e)))
                .ToArray();
            session.QueueSqlCommand(Insert, stream.Key, first, canonical, canonical.Length, stream.Key, first, first);
        }
        return Task.CompletedTask;
    }

    private static ChainedEvent Chained(IDocumentSession session, string stream, JasperFx.Events.IEvent e)
    {
        using var data = JsonDocument.Parse(session.DocumentStore.Options.Serializer().ToJson(e.Data), Deep);
        return new ChainedEvent(stream, e.Version, e.EventType.Name, e.Timestamp, data.RootElement.Clone(),
            e.UserName, e.CorrelationId, e.CausationId);
    }
}

/// <summary>
/// Event timestamps to the millisecond, the precision the events list shows and the chain covers, so nothing
/// a timestamp holds is left out of its hash.
/// </summary>
public sealed class MillisecondClock(TimeProvider inner) : TimeProvider
{
    public override DateTimeOffset GetUtcNow()
    {
        var now = inner.GetUtcNow();
        return now.AddTicks(-(now.UtcTicks % TimeSpan.TicksPerMillisecond));
    }
}


namespace Runs.Host.Ledger;

/// <summary>
/// <c>ledger chain</c>: links for events written before the ledger chained them — every run that has events
/// past its last link. Runs are chained under their streams' row locks, the lock writers take, so a write
/// arriving meanwhile either waits or lands first and is chained after; runs are taken a batch at a time, one
/// transaction per batch. It trusts what is stored now: run it
/// once after upgrading, before anything could have been changed behind the service's back.
/// </summary>
public static class ChainMigration
{
    private static readonly JsonDocumentOptions Deep = new() { MaxDepth = 256 };

    private static string Table(string name) => $"{RunsStore.Schema}.{name}";

    public static async Task<List<string>> UnchainedRunsAsync(NpgsqlDataSource database, CancellationToken cancellation)
    {
        await using var command = database.CreateCommand(
            $"select s.id from {Table("mt_streams")} s " +
            $"where s.version > coalesce((select max(l.version) from {Table(LedgerTables.Links)} l where l.run_id = s.id), 0) order by s.id");
        var runs = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            runs.Add(reader.GetString(0));
        }
        return runs;
    }

    public const int BatchSize = 200;

    /// <summary>Links the unlinked events of <paramref name="runs"/> (at most <see cref="BatchSize"/>), in one transaction; answers how many.</summary>
    public static async Task<int> ChainAsync(NpgsqlDataSource database, IReadOnlyList<string> runs, CancellationToken cancellation)
    {
        var ids = runs.ToArray();
        await using var connection = await database.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        await using (var lockStreams = new NpgsqlCommand($"select id from {Table("mt_streams")} where id = any($1) order by id for update", connection, transaction))
        {
            lockStreams.Parameters.Add(new() { Value = ids });
            await lockStreams.ExecuteNonQueryAsync(cancellation);
        }
        var heads = new Dictionary<string, (long Version, string Hash)>();
        await using (var head = new NpgsqlCommand(
            $"select distinct on (run_id) run_id, version, hash from {Table(LedgerTables.Links)} where run_id = any($1) order by run_id, version desc",
            connection, transaction))
        {
            head.Parameters.Add(new() { Value = ids });
            await using var reader = await head.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                heads[reader.GetString(0)] = (reader.GetInt64(1), reader.GetString(2));
            }
        }

        var links = new List<(string Run, ChainLink Link)>();
        await using (var events = new NpgsqlCommand(
            "select stream_id, version, type, timestamp, data, user_name, correlation_id, causation_id " +
            $"from {Table("mt_events")} e where stream_id = any($1) " +
            $"and version > coalesce((select max(l.version) from {Table(LedgerTables.Links)} l where l.run_id = e.stream_id), 0) order by stream_id, version",
            connection, transaction))
        {
            events.Parameters.Add(new() { Value = ids });
            await using var reader = await events.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                var run = reader.GetString(0);
                var version = reader.GetInt64(1);
                var type = reader.GetString(2);
                var previous = version == 1 ? null : heads.GetValueOrDefault(run).Hash;
                using var data = JsonDocument.Parse(reader.GetString(4), Deep);
                var chained = new ChainedEvent(run, version, StoredRunAudit.ClientNames.GetValueOrDefault(type, type), reader.GetFieldValue<DateTimeOffset>(3),
                    data.RootElement, reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7));
                var link = new ChainLink(version, EventChain.Hash(previous, chained), previous);
                links.Add((run, link));
                heads[run] = (version, link.Hash);
            }
        }

        await using (var insert = new NpgsqlCommand(
            $"insert into {Table(LedgerTables.Links)} (run_id, version, hash, previous_hash) " +
            "select r, v, h, p from unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) l(r, v, h, p) on conflict do nothing", connection, transaction))
        {
            insert.Parameters.Add(new() { Value = links.Select(l => l.Run).ToArray() });
            insert.Parameters.Add(new() { Value = links.Select(l => l.Link.Version).ToArray() });
            insert.Parameters.Add(new() { Value = links.Select(l => l.Link.Hash).ToArray() });
            insert.Parameters.Add(new() { Value = links.Select(l => l.Link.PreviousHash).ToArray() });
            await insert.ExecuteNonQueryAsync(cancellation);
        }
        await transaction.CommitAsync(cancellation);
        return links.Count;
    }
}

using System.Text.Json;
using Npgsql;
using Runs.Domain.Ledger;
using Runs.Projections;
using Runs.Projections.Ledger;

namespace Runs.Host.Ledger;

/// <summary>
/// <c>ledger chain</c>: links for events written before the ledger chained them — every run that has events
/// past its last link. Each run is chained under its stream's row lock, the lock writers take, so a write
/// arriving meanwhile either waits or lands first and is chained after. It trusts what is stored now: run it
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

    /// <summary>Links the run's unlinked events; answers how many.</summary>
    public static async Task<int> ChainAsync(NpgsqlDataSource database, string run, CancellationToken cancellation)
    {
        await using var connection = await database.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        await using (var lockStream = new NpgsqlCommand($"select id from {Table("mt_streams")} where id = $1 for update", connection, transaction))
        {
            lockStream.Parameters.Add(new() { Value = run });
            await lockStream.ExecuteNonQueryAsync(cancellation);
        }
        long after = 0;
        string? previous = null;
        await using (var head = new NpgsqlCommand($"select version, hash from {Table(LedgerTables.Links)} where run_id = $1 order by version desc limit 1", connection, transaction))
        {
            head.Parameters.Add(new() { Value = run });
            await using var reader = await head.ExecuteReaderAsync(cancellation);
            if (await reader.ReadAsync(cancellation))
            {
                (after, previous) = (reader.GetInt64(0), reader.GetString(1));
            }
        }

        var links = new List<ChainLink>();
        await using (var events = new NpgsqlCommand(
            "select version, type, timestamp, data, user_name, correlation_id, causation_id " +
            $"from {Table("mt_events")} where stream_id = $1 and version > $2 order by version", connection, transaction))
        {
            events.Parameters.Add(new() { Value = run });
            events.Parameters.Add(new() { Value = after });
            await using var reader = await events.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                var version = reader.GetInt64(0);
                var type = reader.GetString(1);
                using var data = JsonDocument.Parse(reader.GetString(3), Deep);
                var chained = new ChainedEvent(run, version, StoredRunAudit.ClientNames.GetValueOrDefault(type, type), reader.GetFieldValue<DateTimeOffset>(2),
                    data.RootElement, reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6));
                var hash = EventChain.Hash(version == 1 ? null : previous, chained);
                links.Add(new ChainLink(version, hash, version == 1 ? null : previous));
                previous = hash;
            }
        }

        await using (var insert = new NpgsqlCommand(
            $"insert into {Table(LedgerTables.Links)} (run_id, version, hash, previous_hash) " +
            "select $1, v, h, p from unnest($2::bigint[], $3::text[], $4::text[]) l(v, h, p) on conflict do nothing", connection, transaction))
        {
            insert.Parameters.Add(new() { Value = run });
            insert.Parameters.Add(new() { Value = links.Select(l => l.Version).ToArray() });
            insert.Parameters.Add(new() { Value = links.Select(l => l.Hash).ToArray() });
            insert.Parameters.Add(new() { Value = links.Select(l => l.PreviousHash).ToArray() });
            await insert.ExecuteNonQueryAsync(cancellation);
        }
        await transaction.CommitAsync(cancellation);
        return links.Count;
    }
}

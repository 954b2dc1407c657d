using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using Runs.Domain.Ledger;

namespace Runs.Projections.Ledger;

/// <summary>
/// Reads runs back from storage — events beside their links, log lines, file bytes — and checks each with a
/// <see cref="RunAudit"/>. Runs are read a batch at a time with one streamed query per kind of row, so checking
/// a hundred thousand runs is a few thousand queries and memory holds one batch's digests, never its content.
/// </summary>
public static class StoredRunAudit
{
    public const int BatchSize = 200;

    private static readonly JsonDocumentOptions Deep = new() { MaxDepth = 256 };

    /// <summary>Stored event type names → the names clients (and the chain) use.</summary>
    public static readonly IReadOnlyDictionary<string, string> ClientNames = RunsStore.EventTypes
        .ToDictionary(t => JsonNamingPolicy.SnakeCaseLower.ConvertName(t.Name), t => t.Name);

    private static string Table(string name) => $"{RunsStore.Schema}.{name}";

    /// <summary>Every run the store knows of, by its stream or by its chain (a run deleted outright may leave the latter).</summary>
    public static async Task<List<string>> AllRunsAsync(NpgsqlDataSource database, CancellationToken cancellation) =>
        await IdsAsync(database,
            $"select id from {Table("mt_streams")} union select distinct run_id from {Table(LedgerTables.Links)} order by 1", null, cancellation);

    /// <summary>Whether the store knows the run, by its stream or by its chain.</summary>
    public static async Task<bool> IsKnownAsync(NpgsqlDataSource database, string run, CancellationToken cancellation) =>
        (await IdsAsync(database,
            $"select id from {Table("mt_streams")} where id = $1 union select run_id from {Table(LedgerTables.Links)} where run_id = $1", run, cancellation)).Count > 0;

    public static async Task<List<string>> JobRunsAsync(NpgsqlDataSource database, string job, CancellationToken cancellation) =>
        await IdsAsync(database, $"select id from {Table("mt_doc_run")} where job = $1 order by id", job, cancellation);

    private static async Task<List<string>> IdsAsync(NpgsqlDataSource database, string sql, string? parameter, CancellationToken cancellation)
    {
        await using var command = database.CreateCommand(sql);
        if (parameter is not null)
        {
            command.Parameters.Add(new() { Value = parameter });
        }
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            ids.Add(reader.GetString(0));
        }
        return ids;
    }

    /// <summary>
    /// Checks <paramref name="runs"/> in order. With <paramref name="checkpoint"/>, each run's chain is also
    /// recomputed up to the head it names; without <paramref name="content"/>, only events and links are read.
    /// </summary>
    public static async IAsyncEnumerable<RunVerdict> VerifyAsync(
        NpgsqlDataSource database, IReadOnlyList<string> runs, IReadOnlyDictionary<string, RunHead>? checkpoint = null,
        bool content = true, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        for (var start = 0; start < runs.Count; start += BatchSize)
        {
            var batch = runs.Skip(start).Take(BatchSize).ToArray();
            var audits = batch.Distinct().ToDictionary(r => r, r => new RunAudit(r, checkpoint?.GetValueOrDefault(r), content));
            await using var connection = await database.OpenConnectionAsync(cancellation);
            await ReadEventsAsync(connection, batch, audits, cancellation);
            await ReadStreamsAsync(connection, batch, audits, cancellation);
            if (content)
            {
                await ReadLinesAsync(connection, batch, audits, cancellation);
                await ReadFilesAsync(connection, batch, audits, cancellation);
            }
            foreach (var run in batch)
            {
                yield return audits[run].Finish();
            }
        }
    }

    private static async Task ReadEventsAsync(NpgsqlConnection connection, string[] runs, Dictionary<string, RunAudit> audits, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(
            "select coalesce(e.stream_id, l.run_id), coalesce(e.version, l.version), e.type, e.timestamp, e.data, " +
            "e.user_name, e.correlation_id, e.causation_id, l.hash, l.previous_hash " +
            $"from (select * from {Table("mt_events")} where stream_id = any($1)) e " +
            $"full join (select * from {Table(LedgerTables.Links)} where run_id = any($1)) l on l.run_id = e.stream_id and l.version = e.version " +
            "order by 1, 2", connection);
        command.Parameters.Add(new() { Value = runs });
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            var run = reader.GetString(0);
            var version = reader.GetInt64(1);
            ChainedEvent? stored = null;
            if (!await reader.IsDBNullAsync(2, cancellation))
            {
                var type = reader.GetString(2);
                var timestamp = reader.GetFieldValue<DateTimeOffset>(3);
                using var data = JsonDocument.Parse(reader.GetString(4), Deep);
                stored = new ChainedEvent(run, version, ClientNames.GetValueOrDefault(type, type), timestamp, data.RootElement.Clone(),
                    await NullableAsync(reader, 5, cancellation), await NullableAsync(reader, 6, cancellation), await NullableAsync(reader, 7, cancellation));
            }
            else
            {
                // Sequential access: columns are read in order, skipped ones included.
                for (var i = 3; i < 8; i++)
                {
                    await reader.IsDBNullAsync(i, cancellation);
                }
            }
            var hash = await NullableAsync(reader, 8, cancellation);
            var link = hash is null ? null : new ChainLink(version, hash, await NullableAsync(reader, 9, cancellation));
            audits[run].Event(version, stored, link);
        }
    }

    private static async Task ReadStreamsAsync(NpgsqlConnection connection, string[] runs, Dictionary<string, RunAudit> audits, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand($"select id, version from {Table("mt_streams")} where id = any($1)", connection);
        command.Parameters.Add(new() { Value = runs });
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            audits[reader.GetString(0)].StreamVersion(reader.GetInt64(1));
        }
    }

    private static async Task ReadLinesAsync(NpgsqlConnection connection, string[] runs, Dictionary<string, RunAudit> audits, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(
            $"select run_id, line_id, at, level, message, internal from {Table(LogLineStore.TableName)} where run_id = any($1) order by run_id, line_id",
            connection);
        command.Parameters.Add(new() { Value = runs });
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            var run = reader.GetString(0);
            audits[run].Line(new LogLine(reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2), (LogLevel)reader.GetInt16(3), reader.GetString(4), reader.GetBoolean(5)));
        }
    }

    private static async Task ReadFilesAsync(NpgsqlConnection connection, string[] runs, Dictionary<string, RunAudit> audits, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(
            "select f.run_id, f.kind, f.name, f.content_type, f.size, f.sha256, c.data " +
            $"from {Table(RunFileStore.FilesTable)} f left join {Table(RunFileStore.ChunksTable)} c on c.blob_id = f.blob_id " +
            "where f.run_id = any($1) order by f.run_id, f.kind, f.name, c.seq", connection);
        command.Parameters.Add(new() { Value = runs });
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellation);
        FileBytes? current = null;
        while (await reader.ReadAsync(cancellation))
        {
            var (run, kind, name) = (reader.GetString(0), reader.GetString(1), reader.GetString(2));
            if (current is null || current.Run != run || current.Kind != kind || current.Name != name)
            {
                current?.Finish(audits);
                current = new FileBytes(run, kind, name, reader.GetString(3), reader.GetInt64(4), reader.GetString(5));
            }
            if (!await reader.IsDBNullAsync(6, cancellation))
            {
                await using var chunk = await reader.GetStreamAsync(6, cancellation);
                await current.AppendAsync(chunk, cancellation);
            }
        }
        current?.Finish(audits);
    }

    private static async Task<string?> NullableAsync(NpgsqlDataReader reader, int ordinal, CancellationToken cancellation) =>
        await reader.IsDBNullAsync(ordinal, cancellation) ? null : reader.GetString(ordinal);

    private sealed class FileBytes(string run, string kind, string name, string contentType, long size, string sha256)
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly byte[] _buffer = new byte[81920];
        private long _bytes;

        public string Run => run;
        public string Kind => kind;
        public string Name => name;

        public async Task AppendAsync(Stream chunk, CancellationToken cancellation)
        {
            int read;
            while ((read = await chunk.ReadAsync(_buffer, cancellation)) > 0)
            {
                _hash.AppendData(_buffer, 0, read);
                _bytes += read;
            }
        }

        public void Finish(Dictionary<string, RunAudit> audits)
        {
            audits[run].File(new AuditedFile(kind, name, contentType, size, sha256, _bytes, Convert.ToHexStringLower(_hash.GetHashAndReset())));
            _hash.Dispose();
        }
    }
}

using System.Runtime.CompilerServices;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace Runs.Projections;

/// <summary>
/// Log line text lives in a table of its own, keyed by (run, line id), so any range of a huge log
/// is one index range scan. Lines are written in the same transaction as their <see cref="LogAppended"/>.
/// A trigram index on the text serves case-insensitive substring search (<see cref="Queries.LogSearch"/>).
/// </summary>
public static class LogLineStore
{
    public const string TableName = "log_lines";

    public const string SearchIndexName = "log_lines_message_trgm";

    /// <summary>
    /// The trigram operator classes the search index needs; trusted since PostgreSQL 13, so the database's
    /// owner may create it. In Debian's postgresql-contrib (part of the server package since PostgreSQL 10).
    /// </summary>
    public static Extension Trigrams() => new("pg_trgm");

    public static Table Table(string schema)
    {
        var table = new Table($"{schema}.{TableName}");
        table.AddColumn("run_id", "text").AsPrimaryKey();
        table.AddColumn("line_id", "bigint").AsPrimaryKey();
        table.AddColumn("at", "timestamptz").NotNull();
        table.AddColumn("level", "smallint").NotNull();
        table.AddColumn("message", "text").NotNull();
        table.AddColumn("internal", "boolean").NotNull();
        // GIN with fastupdate (the default): an append adds to the pending list, merged in bulk later.
        table.Indexes.Add(new IndexDefinition(SearchIndexName) { Columns = ["message"], Method = IndexMethod.gin, Mask = "? gin_trgm_ops" });
        return table;
    }

    /// <summary>Queues one multi-row insert into the session's unit of work.</summary>
    public static void Queue(IDocumentSession session, string runId, IReadOnlyList<LogLine> lines)
    {
        if (lines.Count == 0)
        {
            return;
        }
        var schema = session.DocumentStore.Options.DatabaseSchemaName;
        session.QueueSqlCommand(
            $"insert into {schema}.{TableName} (run_id, line_id, at, level, message, internal) " +
            "select ?, * from unnest(?::bigint[], ?::timestamptz[], ?::smallint[], ?::text[], ?::boolean[])",
            runId,
            lines.Select(l => l.Id).ToArray(),
            lines.Select(l => l.At.ToUniversalTime()).ToArray(),
            lines.Select(l => (short)l.Level).ToArray(),
            lines.Select(l => l.Message).ToArray(),
            lines.Select(l => l.Internal).ToArray());
    }

    /// <summary>
    /// The lines of a transaction's appends, gathered to be written with one binary COPY just before it commits
    /// (<c>Runs:Logs:CopyFromLines</c>): for a large group, PostgreSQL parses and plans nothing per append.
    /// </summary>
    public sealed class Copy
    {
        private readonly List<(string RunId, IReadOnlyList<LogLine> Lines)> _appends = [];

        public void Add(string runId, IReadOnlyList<LogLine> lines) => _appends.Add((runId, lines));

        public async Task WriteAsync(NpgsqlConnection connection, CancellationToken cancellation)
        {
            if (_appends.Count == 0)
            {
                return;
            }
            await using var copy = await BeginCopyAsync(connection, cancellation);
            foreach (var (runId, lines) in _appends)
            {
                foreach (var line in lines)
                {
                    await WriteRowAsync(copy, runId, line, cancellation);
                }
            }
            await copy.CompleteAsync(cancellation);
        }
    }

    /// <summary>A binary COPY into the table, in the connection's transaction; rows go in with <see cref="WriteRowAsync"/>.</summary>
    public static Task<NpgsqlBinaryImporter> BeginCopyAsync(NpgsqlConnection connection, CancellationToken cancellation) =>
        connection.BeginBinaryImportAsync(
            $"copy {RunsStore.Schema}.{TableName} (run_id, line_id, at, level, message, internal) from stdin (format binary)", cancellation);

    public static async Task WriteRowAsync(NpgsqlBinaryImporter copy, string runId, LogLine line, CancellationToken cancellation)
    {
        await copy.StartRowAsync(cancellation);
        await copy.WriteAsync(runId, NpgsqlTypes.NpgsqlDbType.Text, cancellation);
        await copy.WriteAsync(line.Id, NpgsqlTypes.NpgsqlDbType.Bigint, cancellation);
        await copy.WriteAsync(line.At.ToUniversalTime(), NpgsqlTypes.NpgsqlDbType.TimestampTz, cancellation);
        await copy.WriteAsync((short)line.Level, NpgsqlTypes.NpgsqlDbType.Smallint, cancellation);
        await copy.WriteAsync(line.Message, NpgsqlTypes.NpgsqlDbType.Text, cancellation);
        await copy.WriteAsync(line.Internal, NpgsqlTypes.NpgsqlDbType.Boolean, cancellation);
    }

    /// <summary>
    /// Which lines a read wants: after an id, at or above a level, the first or the last N, and at most
    /// <paramref name="MaxBytes"/> of message text (UTF-8; a read always holds at least one line).
    /// </summary>
    public sealed record Range(long AfterId = 0, LogLevel? MinimumLevel = null, bool IncludeInternal = false, int? Limit = null, int? Tail = null, long? MaxBytes = null);

    /// <summary>
    /// The lines of <paramref name="range"/>, read one page at a time (<paramref name="pageLines"/> lines and
    /// <paramref name="pageBytes"/> of text at most): each page is one short query, so the connection goes
    /// back to the pool while the caller writes, however slowly its client reads.
    /// </summary>
    public static async IAsyncEnumerable<IReadOnlyList<LogLine>> PagesAsync(
        NpgsqlDataSource database, string runId, Range range, int pageLines, long pageBytes, [EnumeratorCancellation] CancellationToken cancellation)
    {
        var afterId = range.AfterId;
        var remaining = range.Limit ?? range.Tail ?? int.MaxValue;
        if (range.Tail is { } tail)
        {
            // The last N lines are the first N after the line just before them.
            afterId = await LineBeforeLastAsync(database, runId, range, tail, cancellation) ?? afterId;
        }
        while (remaining > 0)
        {
            var page = await ReadAsync(database, runId,
                range with { AfterId = afterId, Limit = Math.Min(remaining, pageLines), Tail = null, MaxBytes = pageBytes }, cancellation);
            if (page.Count == 0)
            {
                yield break;
            }
            yield return page;
            remaining -= page.Count;
            afterId = page[^1].Id;
        }
    }

    /// <summary>One bounded read, whole: give it a <see cref="Range.Limit"/> or a <see cref="Range.Tail"/>.</summary>
    public static async Task<List<LogLine>> ReadAsync(NpgsqlDataSource database, string runId, Range range, CancellationToken cancellation)
    {
        var columns = "line_id, at, level, message, internal";
        var count = range.Tail ?? range.Limit ?? throw new ArgumentException("A read needs a limit or a tail.", nameof(range));
        var direction = range.Tail is null ? "" : " desc";
        // A running total of the text read so far: the page ends with the line that reaches the bound.
        var sql = $"select {columns} from (" +
            $"select {columns}, sum(octet_length(message)) over (order by line_id{direction}) - octet_length(message) as before " +
            $"from {RunsStore.Schema}.{TableName} where {Filter(range)} order by line_id{direction} limit {count}) page " +
            "where page.before < $4 order by line_id";

        await using var command = database.CreateCommand(sql);
        AddParameters(command, runId, range);
        command.Parameters.Add(new() { Value = range.MaxBytes ?? long.MaxValue });
        var lines = new List<LogLine>(Math.Min(count, 1024));
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            lines.Add(new LogLine(
                reader.GetInt64(0),
                reader.GetFieldValue<DateTimeOffset>(1),
                (LogLevel)reader.GetInt16(2),
                reader.GetString(3),
                reader.GetBoolean(4)));
        }
        return lines;
    }

    /// <summary>The id just before the last <paramref name="tail"/> lines of the range; null when the range holds fewer.</summary>
    private static async Task<long?> LineBeforeLastAsync(NpgsqlDataSource database, string runId, Range range, int tail, CancellationToken cancellation)
    {
        await using var command = database.CreateCommand(
            $"select line_id - 1 from {RunsStore.Schema}.{TableName} where {Filter(range)} order by line_id desc offset {tail - 1} limit 1");
        AddParameters(command, runId, range);
        return await command.ExecuteScalarAsync(cancellation) is long before ? before : null;
    }

    private static string Filter(Range range) =>
        "run_id = $1 and line_id > $2 and level >= $3" + (range.IncludeInternal ? "" : " and not internal");

    private static void AddParameters(NpgsqlCommand command, string runId, Range range)
    {
        command.Parameters.Add(new() { Value = runId });
        command.Parameters.Add(new() { Value = range.AfterId });
        command.Parameters.Add(new() { Value = (short)(range.MinimumLevel ?? LogLevel.Debug) });
    }
}

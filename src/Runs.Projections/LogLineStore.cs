using System.Runtime.CompilerServices;
using Marten;
using Npgsql;
using Runs.Domain;
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

    /// <summary>Which lines a read wants: after an id, at or above a level, the first or the last N.</summary>
    public sealed record Range(long AfterId = 0, LogLevel? MinimumLevel = null, bool IncludeInternal = false, int? Limit = null, int? Tail = null);

    /// <summary>Streams lines in id order straight from the index; memory does not grow with the log.</summary>
    public static async IAsyncEnumerable<LogLine> ReadAsync(
        NpgsqlDataSource database, string runId, Range range, [EnumeratorCancellation] CancellationToken cancellation)
    {
        var filter = "run_id = $1 and line_id > $2 and level >= $3" + (range.IncludeInternal ? "" : " and not internal");
        var columns = "line_id, at, level, message, internal";
        var table = $"{RunsStore.Schema}.{TableName}";
        var sql = range.Tail is { } tail
            ? $"select {columns} from (select {columns} from {table} where {filter} order by line_id desc limit {tail}) last order by line_id"
            : $"select {columns} from {table} where {filter} order by line_id" + (range.Limit is { } limit ? $" limit {limit}" : "");

        await using var connection = await database.OpenConnectionAsync(cancellation);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new() { Value = runId });
        command.Parameters.Add(new() { Value = range.AfterId });
        command.Parameters.Add(new() { Value = (short)(range.MinimumLevel ?? LogLevel.Debug) });
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            yield return new LogLine(
                reader.GetInt64(0),
                reader.GetFieldValue<DateTimeOffset>(1),
                (LogLevel)reader.GetInt16(2),
                reader.GetString(3),
                reader.GetBoolean(4));
        }
    }
}

using Marten;
using Runs.Domain;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace Runs.Projections;

/// <summary>
/// Log line text lives in a table of its own, keyed by (run, line id), so any range of a huge log
/// is one index range scan. Lines are written in the same transaction as their <see cref="LogAppended"/>.
/// </summary>
public static class LogLineStore
{
    public const string TableName = "log_lines";

    public static Table Table(string schema)
    {
        var table = new Table($"{schema}.{TableName}");
        table.AddColumn("run_id", "text").AsPrimaryKey();
        table.AddColumn("line_id", "bigint").AsPrimaryKey();
        table.AddColumn("at", "timestamptz").NotNull();
        table.AddColumn("level", "smallint").NotNull();
        table.AddColumn("message", "text").NotNull();
        table.AddColumn("internal", "boolean").NotNull();
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
}

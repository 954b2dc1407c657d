
namespace Runs.Projections.Queries;

/// <summary>Where a page of search matches ends: its last run (as the run listing's cursor) and line.</summary>
public sealed record SearchCursor(PageCursor Run, long LineId)
{
    // The listing's cursor carries the run id; the line id rides along after a '.', which run ids never hold.
    public string Encode() => new PageCursor(Run.CreatedOn, $"{Run.Id}.{LineId}").Encode();

    /// <summary>The cursor in a token this service handed out; null for anything else.</summary>
    public static SearchCursor? Decode(string token)
    {
        long lineId = 0;
        var cursor = PageCursor.Decode(token, id =>
        {
            var dot = id.LastIndexOf('.');
            return dot > 0 && RunId.IsValid(id[..dot]) && long.TryParse(id[(dot + 1)..], out lineId) && lineId > 0;
        });
        return cursor is null ? null : new SearchCursor(cursor with { Id = cursor.Id[..cursor.Id.LastIndexOf('.')] }, lineId);
    }
}

/// <summary>One log line that matched, with the run it belongs to.</summary>
public sealed record LogMatch(string Job, string Run, LogLine Line);

/// <summary>
/// Case-insensitive substring search over the log lines a token may read: <c>ILIKE</c> on the message,
/// served by the trigram index (<see cref="LogLineStore"/>), joined with the run table for the job grants,
/// the listing's filter and retention. Newest run first, lines in order within a run; keyset pages on
/// (run created_on, run id, line id), so a page is stable while new runs and lines arrive.
/// </summary>
public static class LogSearch
{
    /// <summary>Shorter text has no trigram to look up, so it could not use the index.</summary>
    public const int MinQueryLength = 3;

    public sealed record Query(
        string Text, string? Job, JobScope Scope, RunFilter? Filter, LogLevel MinimumLevel, bool IncludeInternal,
        int PageSize, SearchCursor? After);

    public sealed record Page(IReadOnlyList<LogMatch> Matches, SearchCursor? Next);

    /// <summary>The text as a LIKE pattern that matches it anywhere, its own % _ and \ taken literally.</summary>
    public static string Pattern(string text) =>
        "%" + text.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";

    /// <summary>The statement and its parameters, in the order of their <c>$n</c> placeholders.</summary>
    public static (string Sql, List<object> Parameters) Sql(Query query)
    {
        var parameters = new List<object> { Pattern(query.Text), (short)query.MinimumLevel };
        var conditions = new List<string>
        {
            "l.message ilike $1 escape '\\'",
            "l.level >= $2",
            // A log is not searched from the moment its run's log answers 410.
            "d.data ->> 'expired_on' is null",
        };
        if (!query.IncludeInternal)
        {
            conditions.Add("not l.internal");
        }
        if (query.Job is not null)
        {
            parameters.Add(query.Job);
            conditions.Add($"d.job = ${parameters.Count}");
        }
        if (query.Scope.Condition(parameters) is { } granted)
        {
            conditions.Add(granted);
        }
        if (query.Filter is not null)
        {
            conditions.Add(new FilterSql(parameters).Translate(query.Filter));
        }
        if (query.After is { } after)
        {
            parameters.Add(after.Run.CreatedOn);
            var created = $"${parameters.Count}";
            parameters.Add(after.Run.Id);
            var run = $"${parameters.Count}";
            parameters.Add(after.LineId);
            conditions.Add($"((d.created__on, d.id) < ({created}, {run}) or (d.created__on = {created} and d.id = {run} and l.line_id > ${parameters.Count}))");
        }
        parameters.Add(query.PageSize + 1);
        var sql = $"select d.job, d.id, d.created__on, l.line_id, l.at, l.level, l.message, l.internal"
            + $" from {RunsStore.Schema}.{LogLineStore.TableName} l join {RunsStore.Schema}.mt_doc_run d on d.id = l.run_id"
            + " where " + string.Join(" and ", conditions)
            + $" order by d.created__on desc, d.id desc, l.line_id limit ${parameters.Count}";
        return (sql, parameters);
    }

    public static async Task<Page> ReadAsync(NpgsqlDataSource database, Query query, CancellationToken cancellation)
    {
        var (sql, parameters) = Sql(query);
        await using var command = database.CreateCommand(sql);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        var matches = new List<(LogMatch Match, DateTime CreatedOn)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellation))
        {
            while (await reader.ReadAsync(cancellation))
            {
                var line = new LogLine(
                    reader.GetInt64(3), reader.GetFieldValue<DateTimeOffset>(4), (LogLevel)reader.GetInt16(5), reader.GetString(6), reader.GetBoolean(7));
                matches.Add((new LogMatch(reader.GetString(0), reader.GetString(1), line), reader.GetFieldValue<DateTime>(2)));
            }
        }
        SearchCursor? next = null;
        if (matches.Count > query.PageSize)
        {
            var last = matches[query.PageSize - 1];
            next = new SearchCursor(new PageCursor(last.CreatedOn, last.Match.Run), last.Match.Line.Id);
        }
        return new Page([.. matches.Take(query.PageSize).Select(m => m.Match)], next);
    }
}

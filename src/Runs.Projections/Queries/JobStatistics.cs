
namespace Runs.Projections.Queries;

public sealed record DurationStats(double? P50, double? P95, double? Max);

public sealed record FirstRun(string Id, DateTimeOffset CreatedOn);

public sealed record LastRun(string Id, DateTimeOffset CreatedOn, string Status);

/// <summary>A job's aggregate over every run it ever had.</summary>
public sealed record JobAggregate(
    string Job, long Total, IReadOnlyDictionary<string, long> ByStatus, double? SuccessRate, DurationStats Duration, FirstRun FirstRun, LastRun LastRun);

public sealed record DailyDuration(double? P50, double? P95);

public sealed record DayAggregate(string Date, long Total, IReadOnlyDictionary<string, long> ByStatus, DailyDuration Duration);

/// <summary>
/// Job and daily aggregates computed by SQL over the run table the inline projection keeps — exact
/// (continuous percentiles over every run) and current the moment a write is acknowledged.
/// </summary>
public static class JobStatistics
{
    private static readonly RunStatus[] Statuses = Enum.GetValues<RunStatus>();

    private static string StatusCounts(string alias) =>
        string.Join(", ", Statuses.Select(s => $"count(*) filter (where {alias}.status = '{s.Name()}')"));

    public static async Task<List<JobAggregate>> JobsAsync(NpgsqlDataSource database, string? job, JobScope scope, CancellationToken cancellation)
    {
        var parameters = new List<object>();
        var conditions = scope.Conditions(job, parameters);
        var sql = $"""
            select d.job, count(*), {StatusCounts("d")},
                   percentile_cont(0.5) within group (order by d.duration),
                   percentile_cont(0.95) within group (order by d.duration),
                   max(d.duration),
                   (array_agg(d.id order by d.created__on, d.id))[1], min(d.created__on),
                   (array_agg(d.id order by d.created__on desc, d.id desc))[1], max(d.created__on),
                   (array_agg(d.status order by d.created__on desc, d.id desc))[1]
            from {RunsStore.Schema}.mt_doc_run d
            {(conditions.Count > 0 ? "where " + string.Join(" and ", conditions) : "")}
            group by d.job order by d.job
            """;
        return await RowsAsync(database, sql, parameters, (reader, counts, at) =>
        {
            var succeeded = counts["succeeded"];
            var failed = counts["failed"];
            return new JobAggregate(
                reader.GetString(0),
                reader.GetInt64(1),
                counts,
                succeeded + failed == 0 ? null : Math.Round((double)succeeded / (succeeded + failed), 4),
                new DurationStats(Seconds(reader, at), Seconds(reader, at + 1), Seconds(reader, at + 2)),
                new FirstRun(reader.GetString(at + 3), reader.GetFieldValue<DateTimeOffset>(at + 4)),
                new LastRun(reader.GetString(at + 5), reader.GetFieldValue<DateTimeOffset>(at + 6), reader.GetString(at + 7)));
        }, cancellation);
    }

    /// <summary>
    /// One entry per local day from <paramref name="start"/> to <paramref name="end"/> in <paramref name="timeZone"/>;
    /// a run counts on the local date of its creation. Local midnights come from PostgreSQL's time zone
    /// database, so 23- and 25-hour days and :30/:45 offsets are exact.
    /// </summary>
    public static async Task<List<DayAggregate>> DailyAsync(
        NpgsqlDataSource database, string timeZone, DateOnly start, DateOnly end, JobScope scope, RunFilter? filter, CancellationToken cancellation)
    {
        var parameters = new List<object> { timeZone, start, end };
        var conditions = new List<string>
        {
            "d.created__on >= ($2::date::timestamp at time zone $1)",
            "d.created__on < (($3::date + 1)::timestamp at time zone $1)",
        };
        if (scope.Condition(parameters) is { } granted)
        {
            conditions.Add(granted);
        }
        if (filter is not null)
        {
            conditions.Add(new FilterSql(parameters).Translate(filter));
        }
        var sql = $"""
            with runs as (
                select (d.created__on at time zone $1)::date as day, d.status, d.duration
                from {RunsStore.Schema}.mt_doc_run d
                where {string.Join(" and ", conditions)}),
            days as (select generate_series($2::date, $3::date, interval '1 day')::date as day)
            select to_char(days.day, 'YYYY-MM-DD'), count(runs.day), {StatusCounts("runs")},
                   percentile_cont(0.5) within group (order by runs.duration),
                   percentile_cont(0.95) within group (order by runs.duration)
            from days left join runs on runs.day = days.day
            group by days.day order by days.day
            """;
        return await RowsAsync(database, sql, parameters, (reader, counts, at) =>
            new DayAggregate(reader.GetString(0), reader.GetInt64(1), counts, new DailyDuration(Seconds(reader, at), Seconds(reader, at + 1))), cancellation);
    }

    /// <summary>
    /// Reads aggregate rows whose first two columns are a key and a total and whose next columns are
    /// <see cref="StatusCounts"/>: each row comes with its counts by status name and the ordinal after them.
    /// </summary>
    private static async Task<List<T>> RowsAsync<T>(
        NpgsqlDataSource database, string sql, List<object> parameters, Func<NpgsqlDataReader, Dictionary<string, long>, int, T> row, CancellationToken cancellation)
    {
        await using var command = database.CreateCommand(sql);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            var counts = Statuses.Select((s, i) => (s, reader.GetInt64(2 + i))).ToDictionary(x => x.s.Name(), x => x.Item2);
            rows.Add(row(reader, counts, 2 + Statuses.Length));
        }
        return rows;
    }

    public sealed record HistoryRow(DateTimeOffset Time, string Run, string Trigger, double? Duration, string Status);

    /// <summary>Rows of job history fetched per query; small rows, so a page is about 100 KB.</summary>
    public const int HistoryPage = 1000;

    /// <summary>
    /// Every run of the job, oldest first: memory stays flat however long the history, and each page is one
    /// short keyset query, so no connection waits while the caller writes the rows to a slow client.
    /// </summary>
    public static async IAsyncEnumerable<HistoryRow> HistoryAsync(
        NpgsqlDataSource database, string job, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation)
    {
        var after = (Time: DateTimeOffset.MinValue, Run: "");
        while (true)
        {
            var page = new List<HistoryRow>(HistoryPage);
            await using (var command = database.CreateCommand(
                $"select d.created__on, d.id, d.data ->> 'trigger', d.duration, d.status from {RunsStore.Schema}.mt_doc_run d " +
                $"where d.job = $1 and (d.created__on, d.id) > ($2, $3) order by d.created__on, d.id limit {HistoryPage}"))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = job });
                command.Parameters.Add(new NpgsqlParameter { Value = after.Time });
                command.Parameters.Add(new NpgsqlParameter { Value = after.Run });
                await using var reader = await command.ExecuteReaderAsync(cancellation);
                while (await reader.ReadAsync(cancellation))
                {
                    var time = reader.GetFieldValue<DateTimeOffset>(0);
                    var run = reader.GetString(1);
                    var trigger = reader.GetString(2);
                    double? duration = reader.IsDBNull(3) ? null : Math.Round(reader.GetDouble(3), 2);
                    page.Add(new HistoryRow(time, run, trigger, duration, reader.GetString(4)));
                }
            }
            foreach (var row in page)
            {
                yield return row;
            }
            if (page.Count < HistoryPage)
            {
                yield break;
            }
            after = (page[^1].Time, page[^1].Run);
        }
    }

    private static double? Seconds(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Math.Round(reader.GetDouble(ordinal), 2);
}

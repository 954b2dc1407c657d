using System.Text;

namespace Runs.Projections.Queries;

/// <summary>Where a page ends: the last run's creation time (as stored) and id.</summary>
public sealed record PageCursor(DateTime CreatedOn, string Id)
{
    public string Encode() =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{CreatedOn.Ticks}|{Id}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The cursor in a token this service handed out; null for anything else.</summary>
    public static PageCursor? Decode(string token) => Decode(token, RunId.IsValid);

    public static PageCursor? Decode(string token, Func<string, bool> validId)
    {
        try
        {
            var padded = token.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(padded)).Split('|');
            return parts.Length == 2 && long.TryParse(parts[0], out var ticks) && ticks >= 0 && ticks <= DateTime.MaxValue.Ticks && validId(parts[1])
                ? new PageCursor(new DateTime(ticks, DateTimeKind.Utc), parts[1])
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>
/// Job grants as SQL: exact names and <c>*</c> globs (as LIKE patterns); <see cref="Everything"/> for <c>*</c>.
/// </summary>
public sealed record JobScope(IReadOnlyList<string> Names, IReadOnlyList<string> Patterns, bool Everything)
{
    public static JobScope From(IEnumerable<string> grants)
    {
        var all = grants.ToList();
        if (all.Contains("*"))
        {
            return new([], [], true);
        }
        return new(
            [.. all.Where(g => !g.Contains('*'))],
            [.. all.Where(g => g.Contains('*')).Select(g => g.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_").Replace('*', '%'))],
            false);
    }

    /// <summary>The conditions for runs of <paramref name="job"/> (any job when null) within these grants.</summary>
    public List<string> Conditions(string? job, List<object> parameters)
    {
        var conditions = new List<string>();
        if (job is not null)
        {
            parameters.Add(job);
            conditions.Add($"d.job = ${parameters.Count}");
        }
        if (Condition(parameters) is { } granted)
        {
            conditions.Add(granted);
        }
        return conditions;
    }

    public string? Condition(List<object> parameters)
    {
        if (Everything)
        {
            return null;
        }
        parameters.Add(Names.ToArray());
        var names = $"${parameters.Count}";
        parameters.Add(Patterns.ToArray());
        return $"(d.job = any({names}) or d.job like any(${parameters.Count}))";
    }
}

/// <summary>What a listing shows of a run: its summary fields, without the rest of its document.</summary>
public sealed record ListedRun(
    string Id, string Job, RunStatus Status, string Trigger, string? Source, string CreatedBy,
    DateTimeOffset CreatedOn, DateTimeOffset? StartedOn, DateTimeOffset? CompletedOn, DateTimeOffset LastModified,
    double? Duration, int? ExitCode, bool HasOutput);

/// <summary>Newest-first pages of runs, by keyset on (created_on, id): stable while new runs arrive.</summary>
public static class RunListing
{
    public sealed record Page(IReadOnlyList<ListedRun> Runs, PageCursor? Next);

    private static readonly string[] SummaryFields =
        ["id", "job", "status", "trigger", "source", "created_by", "created_on", "started_on", "completed_on", "last_modified", "duration", "exit_code", "has_output"];

    /// <summary>
    /// The summary fields as they are stored, picked out of the document by PostgreSQL (which reads the
    /// document once, in <c>jsonb_to_record</c>): a page never carries runs' inputs or telemetry summaries.
    /// </summary>
    private static readonly string SummaryJson =
        $"jsonb_build_object({string.Join(", ", SummaryFields.Select(f => $"'{f}', s.\"{f}\""))})";

    private static readonly string SummaryRecord =
        $"jsonb_to_record(p.data) as s({string.Join(", ", SummaryFields.Select(f => $"\"{f}\" jsonb"))})";

    public static async Task<bool> JobExistsAsync(NpgsqlDataSource database, string job, CancellationToken cancellation)
    {
        await using var command = database.CreateCommand($"select exists (select 1 from {RunsStore.Schema}.mt_doc_run d where d.job = $1)");
        command.Parameters.Add(new NpgsqlParameter { Value = job });
        return (bool)(await command.ExecuteScalarAsync(cancellation))!;
    }

    public static async Task<Page> ReadAsync(
        NpgsqlDataSource database, IDocumentStore store, string? job, JobScope scope, RunFilter? filter,
        int pageSize, PageCursor? after, CancellationToken cancellation)
    {
        var parameters = new List<object>();
        var conditions = scope.Conditions(job, parameters);
        if (filter is not null)
        {
            conditions.Add(new FilterSql(parameters).Translate(filter));
        }
        if (after is not null)
        {
            parameters.Add(after.CreatedOn);
            parameters.Add(after.Id);
            conditions.Add($"(d.created__on, d.id) < (${parameters.Count - 1}, ${parameters.Count})");
        }
        parameters.Add(pageSize + 1);
        // The page is chosen first, so only its documents are opened, whatever plan sorts the candidates.
        var sql = $"select {SummaryJson}, p.created__on from (select d.data, d.created__on, d.id from {RunsStore.Schema}.mt_doc_run d"
            + (conditions.Count > 0 ? " where " + string.Join(" and ", conditions) : "")
            + $" order by d.created__on desc, d.id desc limit ${parameters.Count}) p cross join lateral {SummaryRecord}"
            + " order by p.created__on desc, p.id desc";

        await using var command = database.CreateCommand(sql);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        var serializer = store.Options.Serializer();
        var runs = new List<(ListedRun Run, DateTime CreatedOn)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellation))
        {
            while (await reader.ReadAsync(cancellation))
            {
                runs.Add((serializer.FromJson<ListedRun>(reader, 0), reader.GetFieldValue<DateTime>(1)));
            }
        }
        var next = runs.Count > pageSize ? new PageCursor(runs[pageSize - 1].CreatedOn, runs[pageSize - 1].Run.Id) : null;
        return new Page([.. runs.Take(pageSize).Select(r => r.Run)], next);
    }
}

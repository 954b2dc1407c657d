
namespace Runs.Host.Jobs;

public sealed record DailyStats(string TimeZone, IReadOnlyList<DayAggregate> Days);

/// <summary>The query of the daily statistics: <c>time_zone</c> (required), <c>start_date</c>, <c>end_date</c>, <c>filter</c>.</summary>
public sealed record DailyStatsQuery(TimeZoneInfo Zone, DateOnly Start, DateOnly End, RunFilter? Filter) : IQueryRequest<DailyStatsQuery>
{
    private static readonly DateOnly Earliest = new(1970, 1, 1);
    private static readonly DateOnly Latest = new(9000, 12, 31);

    public static (DailyStatsQuery? Query, IResult? Refusal) Read(HttpRequest request)
    {
        var query = request.Query;
        var clock = request.HttpContext.RequestServices.GetRequiredService<TimeProvider>();
        string? zoneName = query["time_zone"];
        if (string.IsNullOrWhiteSpace(zoneName))
        {
            return (null, Problems.Invalid("time_zone", "'time_zone' is required: an IANA time zone such as Europe/Berlin."));
        }
        if (!TryZone(zoneName, out var zone))
        {
            return (null, Problems.Invalid("time_zone", $"'{zoneName}' is not an IANA time zone."));
        }

        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(clock.GetUtcNow(), zone).DateTime);
        var (end, endProblem) = Date(query["end_date"], "end_date", today);
        if (endProblem is not null)
        {
            return (null, endProblem);
        }
        var (start, startProblem) = Date(query["start_date"], "start_date", end.AddDays(-29));
        if (startProblem is not null)
        {
            return (null, startProblem);
        }
        if (end < start)
        {
            return (null, Problems.Invalid("end_date", "'end_date' is before 'start_date'."));
        }
        if (end.DayNumber - start.DayNumber + 1 > DailyStatsEndpoint.MaxDays)
        {
            return (null, Problems.Invalid("start_date", $"At most {DailyStatsEndpoint.MaxDays} days at once."));
        }
        var (filter, filterProblem) = Filters.Parse(query["filter"]);
        if (filterProblem is not null)
        {
            return (null, filterProblem);
        }
        return (new DailyStatsQuery(zone, start, end, filter), null);
    }

    public static IEnumerable<OpenApiParameter> Parameters =>
    [
        QueryParameters.Of("time_zone", "The IANA time zone whose days are counted, such as Europe/Berlin.", required: true),
        QueryParameters.Of("start_date", "The first day, YYYY-MM-DD; 29 days before end_date when absent."),
        QueryParameters.Of("end_date", $"The last day, YYYY-MM-DD; today in time_zone when absent. At most {DailyStatsEndpoint.MaxDays} days."),
        QueryParameters.Filter("The run listing's filter (AIP-160), applied to the runs counted."),
    ];

    private static bool TryZone(string name, out TimeZoneInfo zone)
    {
        zone = TimeZoneInfo.Utc;
        if (name.Length > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '_' or '-' or '+'))
        {
            return false;
        }
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(name);
            // Windows-style names are not IANA names; PostgreSQL would not know them either.
            return zone.HasIanaId;
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return false;
        }
    }

    private static (DateOnly Date, IResult? Problem) Date(string? text, string field, DateOnly fallback)
    {
        if (string.IsNullOrEmpty(text))
        {
            return (fallback, null);
        }
        return DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            && date >= Earliest && date <= Latest
            ? (date, null)
            : (fallback, Problems.Invalid(field, $"'{field}' must be a date YYYY-MM-DD between {Earliest:yyyy-MM-dd} and {Latest:yyyy-MM-dd}."));
    }
}

public static class DailyStatsEndpoint
{
    public const int MaxDays = 366;

    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/stats/daily", OperationId = "getDailyStats", Summary = "Get statistics per day")]
    [Tags("Jobs and statistics")]
    [ProducesResponseType<DailyStats>(StatusCodes.Status200OK)]
    public static async Task<IResult> Get(DailyStatsQuery query, HttpContext http, NpgsqlDataSource database)
    {
        var scope = JobScope.From(http.User.FindAll(BearerTokens.JobClaim).Select(c => c.Value));
        var days = await JobStatistics.DailyAsync(database, query.Zone.Id, query.Start, query.End, scope, query.Filter, http.RequestAborted);
        return Results.Ok(new DailyStats(query.Zone.Id, days));
    }
}

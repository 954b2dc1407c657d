using LogLevel = Runs.Domain.LogLevel;

namespace Runs.Host.Runs.Logs;

/// <summary>One matching line and where it is.</summary>
public sealed record LogMatchView(string Job, string Run, LogLineView Line);

public sealed record LogSearchPage(IReadOnlyList<LogMatchView> Matches, string? NextPageToken);

/// <summary>The query of a log search: <c>q</c>, <c>filter</c>, <c>level</c>, <c>page_size</c>, <c>page_token</c>.</summary>
public sealed record LogSearchQuery(LogSearch.Query Search) : IQueryRequest<LogSearchQuery>
{
    public static (LogSearchQuery? Query, IResult? Refusal) Read(HttpRequest request)
    {
        var (search, problem) = SearchLogsEndpoint.Parse(request, request.RouteValues["job"] as string);
        return (search is null ? null : new LogSearchQuery(search), problem);
    }

    public static IEnumerable<OpenApiParameter> Parameters =>
    [
        new OpenApiParameter
        {
            Name = "q", In = ParameterLocation.Query, Required = true,
            Description = "The text to find inside messages, ignoring letter case; %, _ and \\ are plain characters.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = LogSearch.MinQueryLength },
        },
        QueryParameters.Filter("The run listing's filter (AIP-160), applied to the runs whose lines are searched."),
        new OpenApiParameter
        {
            Name = "level", In = ParameterLocation.Query, Description = "The lowest level of the lines searched.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. Enum.GetValues<LogLevel>().Select(l => (System.Text.Json.Nodes.JsonNode)l.Name())] },
        },
        .. QueryParameters.Paging(SearchLogsEndpoint.DefaultPageSize, SearchLogsEndpoint.MaxPageSize, "Matches"),
    ];
}

/// <summary>
/// Case-insensitive substring search over the logs the token may read (internal lines for admin tokens
/// only, expired logs never): newest run first, lines in order within a run, the listing's filter on runs.
/// </summary>
public static class SearchLogsEndpoint
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 1000;

    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/logs/search", OperationId = "searchLogs", Summary = "Search the logs of every run")]
    [Tags("Logs and telemetry")]
    [ProducesResponseType<LogSearchPage>(StatusCodes.Status200OK)]
    public static Task<IResult> Everywhere(LogSearchQuery query, HttpContext http, NpgsqlDataSource database) =>
        SearchAsync(http, database, query.Search);

    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs/{job}/logs/search", OperationId = "searchJobLogs", Summary = "Search the logs of a job's runs")]
    [Tags("Logs and telemetry")]
    [ProducesResponseType<LogSearchPage>(StatusCodes.Status200OK)]
    public static async Task<IResult> ForJob(string job, LogSearchQuery query, HttpContext http, NpgsqlDataSource database)
    {
        if (!JobName.IsValid(job))
        {
            return Problems.NotFound($"No job '{job}'.");
        }
        return await SearchAsync(http, database, query.Search);
    }

    /// <summary>The search the request asks for, or a 400 naming what is wrong with it.</summary>
    public static (LogSearch.Query? Query, IResult? Problem) Parse(HttpRequest request, string? job)
    {
        var query = request.Query;
        string text = query["q"].ToString();
        if (text.EnumerateRunes().Count() < LogSearch.MinQueryLength)
        {
            return (null, Problems.Invalid("q", $"'q' is required: the text to find, at least {LogSearch.MinQueryLength} characters."));
        }
        var (pageSize, after, pageProblem) = PageSize.WithToken(request, DefaultPageSize, MaxPageSize, token => SearchCursor.Decode(token));
        if (pageProblem is not null)
        {
            return (null, pageProblem);
        }
        var level = LogLevel.Debug;
        if (query.TryGetValue("level", out var levelText) && !LogLevels.TryParse(levelText, out level))
        {
            return (null, Problems.Invalid("level", "'level' must be debug, info, warn or error."));
        }
        var (filter, problem) = Filters.Parse(query["filter"]);
        if (problem is not null)
        {
            return (null, problem);
        }
        var user = request.HttpContext.User;
        var scope = JobScope.From(user.FindAll(BearerTokens.JobClaim).Select(c => c.Value));
        var internalLines = user.HasClaim(BearerTokens.ScopeClaim, Scopes.Admin);
        return (new LogSearch.Query(text, job, scope, filter, level, internalLines, pageSize, after), null);
    }

    private static async Task<IResult> SearchAsync(HttpContext http, NpgsqlDataSource database, LogSearch.Query query)
    {
        var page = await LogSearch.ReadAsync(database, query, http.RequestAborted);
        if (query.Job is { } job && page.Matches.Count == 0 && query.After is null
            && !await RunListing.JobExistsAsync(database, job, http.RequestAborted))
        {
            return Problems.NotFound($"No job '{job}': a job exists once it has a run.");
        }
        var matches = page.Matches.Select(m => new LogMatchView(m.Job, m.Run, LogLineView.From(m.Line))).ToList();
        return Results.Ok(new LogSearchPage(matches, page.Next?.Encode()));
    }
}

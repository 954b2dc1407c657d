
namespace Runs.Host.Runs.Listing;

/// <summary>A run in a listing: the summary fields.</summary>
public sealed record RunSummary(
    string Id, string Name, string Uri, string Job, string Status, string Trigger, string? Source, string CreatedBy,
    DateTimeOffset CreatedOn, DateTimeOffset? StartedOn, DateTimeOffset? CompletedOn, DateTimeOffset LastModified,
    double? Duration, int? ExitCode, bool HasOutput)
{
    public static RunSummary From(Run run) => From(new ListedRun(
        run.Id, run.Job, run.Status, run.Trigger, run.Source, run.CreatedBy,
        run.CreatedOn, run.StartedOn, run.CompletedOn, run.LastModified, run.Duration, run.ExitCode, run.HasOutput));

    public static RunSummary From(ListedRun run) => new(
        run.Id, run.Id, RunView.UriOf(run.Job, run.Id), run.Job, run.Status.Name(), run.Trigger, run.Source, run.CreatedBy,
        run.CreatedOn, run.StartedOn, run.CompletedOn, run.LastModified, run.Duration, run.ExitCode, run.HasOutput);
}

/// <summary>The query of a listing: <c>page_size</c>, <c>page_token</c>, <c>filter</c>.</summary>
public sealed record RunListQuery(int PageSize, PageCursor? After, RunFilter? Filter) : IQueryRequest<RunListQuery>
{
    public static (RunListQuery? Query, IResult? Refusal) Read(HttpRequest request)
    {
        var (pageSize, after, pageProblem) = Http.PageSize.WithToken(
            request, ListRunsEndpoint.DefaultPageSize, ListRunsEndpoint.MaxPageSize, token => PageCursor.Decode(token));
        if (pageProblem is not null)
        {
            return (null, pageProblem);
        }
        var (filter, problem) = Filters.Parse(request.Query["filter"]);
        return problem is null ? (new RunListQuery(pageSize, after, filter), null) : (null, problem);
    }

    public static IEnumerable<OpenApiParameter> Parameters =>
    [
        QueryParameters.Filter("AIP-160 over job, status, trigger, source, created_by, create_time, start_time, end_time, duration and labels.<key>."),
        .. QueryParameters.Paging(ListRunsEndpoint.DefaultPageSize, ListRunsEndpoint.MaxPageSize, "Runs"),
    ];
}

public sealed record RunPage(IReadOnlyList<RunSummary> Runs, string? NextPageToken, bool HasNextPage, int Count);

public static class ListRunsEndpoint
{
    public const int DefaultPageSize = 30;
    public const int MaxPageSize = 1000;

    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs/{job}/runs", OperationId = "listJobRuns", Summary = "List a job's runs")]
    [Tags("Reading runs")]
    [ProducesResponseType<RunPage>(StatusCodes.Status200OK)]
    public static async Task<IResult> ForJob(string job, RunListQuery query, HttpContext http, NpgsqlDataSource database, IDocumentStore store)
    {
        if (!JobName.IsValid(job))
        {
            return Problems.NotFound($"No job '{job}'.");
        }
        return await ListAsync(http, database, store, job, query);
    }

    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/runs", OperationId = "listRuns", Summary = "List runs across jobs")]
    [Tags("Reading runs")]
    [ProducesResponseType<RunPage>(StatusCodes.Status200OK)]
    public static Task<IResult> Everywhere(RunListQuery query, HttpContext http, NpgsqlDataSource database, IDocumentStore store) =>
        ListAsync(http, database, store, null, query);

    private static async Task<IResult> ListAsync(HttpContext http, NpgsqlDataSource database, IDocumentStore store, string? job, RunListQuery query)
    {
        var scope = JobScope.From(http.User.FindAll(BearerTokens.JobClaim).Select(c => c.Value));
        var page = await RunListing.ReadAsync(database, store, job, scope, query.Filter, query.PageSize, query.After, http.RequestAborted);
        if (job is not null && page.Runs.Count == 0 && query.After is null && query.Filter is null && !await RunListing.JobExistsAsync(database, job, http.RequestAborted))
        {
            return Problems.NotFound($"No job '{job}': a job exists once it has a run.");
        }
        var runs = page.Runs.Select(RunSummary.From).ToList();
        return Results.Ok(new RunPage(runs, page.Next?.Encode(), page.Next is not null, runs.Count));
    }
}

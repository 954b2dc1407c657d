
namespace Runs.Host.Webhooks;

/// <summary>The body of <c>POST /v1/webhooks</c> (and of <c>PATCH</c>, where every field is optional).</summary>
public sealed record WebhookRequest(string? Url = null, string[]? Events = null, string[]? Jobs = null, string? Description = null, bool? Enabled = null)
{
    /// <summary>
    /// A 400 naming every field that is wrong, or <see cref="WolverineContinue.Result"/>: run by Wolverine before the
    /// endpoint (its <c>ValidateAsync</c>), as it needs DNS and the caller's grants, which a validator has not.
    /// </summary>
    public async Task<IResult> RefusalAsync(HttpContext http, bool creating, RunsOptions options, IHostEnvironment environment)
    {
        var allowPrivate = options.Webhooks.AllowPrivateNetworks ?? environment.IsDevelopment();
        return await ProblemsAsync(http.User, creating, allowPrivate, http.RequestAborted) is { Count: > 0 } problems
            ? Problems.Invalid(problems)
            : WolverineContinue.Result();
    }

    /// <summary>Field → messages for the fields given; <paramref name="creating"/> also requires url and events.</summary>
    public async Task<Dictionary<string, string[]>> ProblemsAsync(System.Security.Claims.ClaimsPrincipal user, bool creating, bool allowPrivate, CancellationToken cancellation)
    {
        var problems = new Dictionary<string, string[]>();
        if (creating || Url is not null)
        {
            if (WebhookUrls.Problem(Url) is { } urlProblem)
            {
                problems["url"] = [urlProblem];
            }
            else if (await WebhookUrls.PrivateNetworkProblem(Url!, allowPrivate, cancellation) is { } networkProblem)
            {
                problems["url"] = [networkProblem];
            }
        }
        if ((creating || Events is not null) && (Events is null || Events.Length == 0 || Events.Any(e => !WebhookEndpoint.EventTypes.Contains(e))))
        {
            problems["events"] = [$"'events' must be a non-empty subset of {string.Join(", ", WebhookEndpoint.EventTypes)}."];
        }
        if (Jobs is not null)
        {
            if (Jobs.Length == 0 || Jobs.Length > 100 || Jobs.Any(j => j is null || (j != "*" && !global::Runs.Domain.JobName.IsValid(j.Replace("*", "x")))))
            {
                problems["jobs"] = ["'jobs' must list (at most 100) job names, globs such as 'nightly-*', or '*'."];
            }
            else if (Jobs.FirstOrDefault(j => !WebhookEndpoint.Covers(user, j)) is { } outside)
            {
                problems["jobs"] = [$"The token may not read '{outside}', so it cannot subscribe to it."];
            }
        }
        if (Description is { Length: > 500 })
        {
            problems["description"] = ["'description' may be at most 500 characters."];
        }
        return problems;
    }
}

public static class CreateWebhookEndpoint
{
    public const string OperationId = "createWebhook";

    public static Task<IResult> ValidateAsync(WebhookRequest body, HttpContext http, IOptions<RunsOptions> options, IHostEnvironment environment) =>
        body.RefusalAsync(http, creating: true, options.Value, environment);

    [Authorize(ScopePolicies.WebhookOwner)]
    [WolverinePost("/v1/webhooks", OperationId = OperationId, Summary = "Register a webhook endpoint")]
    [Tags("Webhooks")]
    [ProducesResponseType<WebhookView>(StatusCodes.Status201Created)]
    public static async Task<IResult> Post(
        WebhookRequest body, HttpContext http, IDocumentSession session, Runs.RunSecrets secrets, IOptions<RunsOptions> options, TimeProvider clock)
    {
        // Every bearer token carries its id; the endpoint belongs to it.
        var owner = WebhookEndpoint.TokenIdOf(http.User)!;
        if (await OverCapAsync(session, owner, options.Value.Webhooks.MaxEndpointsPerToken, http.RequestAborted) is { } full)
        {
            return full;
        }

        var now = clock.GetUtcNow();
        var secret = WebhookEndpoint.NewSecret();
        var endpoint = new WebhookEndpoint
        {
            Id = WebhookEndpoint.NewId(),
            Url = body.Url!,
            Events = [.. body.Events!.Distinct()],
            // Omitted jobs mean the creating token's grants, copied now.
            Jobs = body.Jobs is { } jobs ? [.. jobs.Distinct()] : [.. http.User.FindAll(BearerTokens.JobClaim).Select(c => c.Value)],
            Description = body.Description,
            Enabled = body.Enabled ?? true,
            CreatedBy = http.User.Actor(),
            OwnerTokenId = owner,
            CreatedOn = now,
            Secrets = [new WebhookSecret(secrets.Seal(secret), now, null)],
        };
        session.Insert(endpoint);
        return Results.Created($"/v1/webhooks/{endpoint.Id}", WebhookView.From(endpoint, secret));
    }

    /// <summary>
    /// 409 when the token already owns <paramref name="cap"/> endpoints. The owner's token row is locked
    /// for the rest of this transaction first, so concurrent creations by one token queue here and
    /// each counts what the one before it committed.
    /// </summary>
    private static async Task<IResult?> OverCapAsync(IDocumentSession session, string owner, int cap, CancellationToken cancellation)
    {
        await session.BeginTransactionAsync(cancellation);
        await session.AdvancedSql.QueryAsync<int>(
            $"select 1 from {RunsStore.Schema}.mt_doc_apitoken where id = ? for update", cancellation, owner);
        var owned = await session.Query<WebhookEndpoint>().CountAsync(e => e.OwnerTokenId == owner, cancellation);
        return owned < cap
            ? null
            : Results.Problem(
                detail: $"This token already owns {owned} webhook endpoints, the most one token may own (Runs:Webhooks:MaxEndpointsPerToken = {cap}); delete one first.",
                statusCode: StatusCodes.Status409Conflict,
                title: "Too many webhook endpoints.",
                extensions: new Dictionary<string, object?> { ["limit"] = cap });
    }
}

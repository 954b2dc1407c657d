using Marten;
using Microsoft.Extensions.Options;
using Runs.Host.Access;
using Runs.Host.Http;
using Wolverine.Http;

namespace Runs.Host.Webhooks;

/// <summary>The body of <c>POST /v1/webhooks</c> (and of <c>PATCH</c>, where every field is optional).</summary>
public sealed record WebhookRequest(string? Url = null, string[]? Events = null, string[]? Jobs = null, string? Description = null, bool? Enabled = null)
{
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
    [WolverinePost("/v1/webhooks", OperationId = "createWebhook", Summary = "Register a webhook endpoint")]
    [Tags("Webhooks")]
    [Consumes(typeof(WebhookRequest), "application/json")]
    [ProducesResponseType<WebhookView>(StatusCodes.Status201Created)]
    public static async Task<IResult> Post(
        HttpContext http, JsonBody json, IDocumentSession session, Runs.RunSecrets secrets, IOptions<RunsOptions> options,
        IHostEnvironment environment, TimeProvider clock)
    {
        if (http.User.RefuseUnlessScope(Scopes.WebhooksManage) is { } refused)
        {
            return refused;
        }
        var (body, problem) = await json.ReadAsync<WebhookRequest>(http.Request, required: true);
        if (problem is not null)
        {
            return problem;
        }
        var allowPrivate = options.Value.Webhooks.AllowPrivateNetworks ?? environment.IsDevelopment();
        if (await body!.ProblemsAsync(http.User, creating: true, allowPrivate, http.RequestAborted) is { Count: > 0 } problems)
        {
            return Problems.Invalid(problems);
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
            CreatedOn = now,
            Secrets = [new WebhookSecret(secrets.Seal(secret), now, null)],
        };
        session.Store(endpoint);
        return Results.Created($"/v1/webhooks/{endpoint.Id}", WebhookView.From(endpoint, secret));
    }
}

using Marten;
using Microsoft.Extensions.Options;
using Runs.Host.Access;
using Runs.Host.Http;
using Wolverine.Http;

namespace Runs.Host.Webhooks;

public sealed record WebhookList(IReadOnlyList<WebhookView> Webhooks);

public sealed record RotatedSecret(string Id, string Secret, DateTimeOffset PreviousSecretExpiresOn);

public static class ManageWebhooksEndpoints
{
    public static readonly TimeSpan RotationOverlap = TimeSpan.FromHours(24);

    /// <summary>The endpoint, when it exists and the token may see it; otherwise the answer to give.</summary>
    public static async Task<(WebhookEndpoint? Endpoint, IResult? Problem)> FindAsync(HttpContext http, IQuerySession session, string id)
    {
        if (http.User.RefuseUnlessScope(Scopes.WebhooksManage) is { } refused)
        {
            return (null, refused);
        }
        var endpoint = id.Length <= 100 ? await session.LoadAsync<WebhookEndpoint>(id, http.RequestAborted) : null;
        return endpoint is not null && endpoint.VisibleTo(http.User)
            ? (endpoint, null)
            : (null, Problems.NotFound($"No webhook endpoint '{id}'."));
    }

    [WolverineGet("/v1/webhooks", OperationId = "listWebhooks", Summary = "List webhook endpoints")]
    [Tags("Webhooks")]
    [ProducesResponseType<WebhookList>(StatusCodes.Status200OK)]
    public static async Task<IResult> List(HttpContext http, IQuerySession session)
    {
        if (http.User.RefuseUnlessScope(Scopes.WebhooksManage) is { } refused)
        {
            return refused;
        }
        var endpoints = await session.Query<WebhookEndpoint>().OrderBy(e => e.CreatedOn).ToListAsync(http.RequestAborted);
        return Results.Ok(new WebhookList([.. endpoints.Where(e => e.VisibleTo(http.User)).Select(e => WebhookView.From(e))]));
    }

    [WolverineGet("/v1/webhooks/{id}", OperationId = "getWebhook", Summary = "Get a webhook endpoint")]
    [Tags("Webhooks")]
    [ProducesResponseType<WebhookView>(StatusCodes.Status200OK)]
    public static async Task<IResult> Get(string id, HttpContext http, IQuerySession session)
    {
        var (endpoint, problem) = await FindAsync(http, session, id);
        return problem ?? Results.Ok(WebhookView.From(endpoint!));
    }

    [WolverinePatch("/v1/webhooks/{id}", OperationId = "updateWebhook", Summary = "Change a webhook endpoint")]
    [Tags("Webhooks")]
    [Consumes(typeof(WebhookRequest), "application/json")]
    [ProducesResponseType<WebhookView>(StatusCodes.Status200OK)]
    public static async Task<IResult> Patch(
        string id, HttpContext http, JsonBody json, IDocumentSession session, IOptions<RunsOptions> options, IHostEnvironment environment)
    {
        var (endpoint, problem) = await FindAsync(http, session, id);
        if (problem is not null)
        {
            return problem;
        }
        var (body, bodyProblem) = await json.ReadAsync<WebhookRequest>(http.Request, required: true);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }
        var allowPrivate = options.Value.Webhooks.AllowPrivateNetworks ?? environment.IsDevelopment();
        if (await body!.ProblemsAsync(http.User, creating: false, allowPrivate, http.RequestAborted) is { Count: > 0 } problems)
        {
            return Problems.Invalid(problems);
        }
        endpoint!.Url = body.Url ?? endpoint.Url;
        endpoint.Events = body.Events is { } events ? [.. events.Distinct()] : endpoint.Events;
        endpoint.Jobs = body.Jobs is { } jobs ? [.. jobs.Distinct()] : endpoint.Jobs;
        endpoint.Description = body.Description ?? endpoint.Description;
        if (body.Enabled is { } enabled)
        {
            endpoint.Enabled = enabled;
            endpoint.DisabledReason = enabled ? null : $"disabled by {http.User.Actor()}";
        }
        session.Store(endpoint);
        return Results.Ok(WebhookView.From(endpoint));
    }

    [WolverineDelete("/v1/webhooks/{id}", OperationId = "deleteWebhook", Summary = "Delete a webhook endpoint")]
    [Tags("Webhooks")]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    public static async Task<IResult> Delete(string id, HttpContext http, IDocumentSession session)
    {
        var (endpoint, problem) = await FindAsync(http, session, id);
        if (problem is not null)
        {
            return problem;
        }
        session.Delete(endpoint!);
        return Results.NoContent();
    }

    /// <summary>A new secret signs from now on; the previous one keeps signing too for 24 hours.</summary>
    [WolverinePost("/v1/webhooks/{id}/rotate-secret", OperationId = "rotateWebhookSecret", Summary = "Rotate a webhook endpoint's secret")]
    [Tags("Webhooks")]
    [ProducesResponseType<RotatedSecret>(StatusCodes.Status200OK)]
    public static async Task<IResult> Rotate(string id, HttpContext http, IDocumentSession session, Runs.RunSecrets secrets, TimeProvider clock)
    {
        var (endpoint, problem) = await FindAsync(http, session, id);
        if (problem is not null)
        {
            return problem;
        }
        var now = clock.GetUtcNow();
        var expires = now + RotationOverlap;
        var secret = WebhookEndpoint.NewSecret();
        endpoint!.Secrets =
        [
            new WebhookSecret(secrets.Seal(secret), now, null),
            .. endpoint.Secrets.Where(s => s.ExpiresOn is null || s.ExpiresOn > now)
                .Select(s => s with { ExpiresOn = s.ExpiresOn is { } e && e < expires ? e : expires }),
        ];
        session.Store(endpoint);
        return Results.Ok(new RotatedSecret(endpoint.Id, secret, expires));
    }
}

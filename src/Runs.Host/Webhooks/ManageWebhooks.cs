
namespace Runs.Host.Webhooks;

public sealed record WebhookList(IReadOnlyList<WebhookView> Webhooks);

public sealed record RotatedSecret(string Id, string Secret, DateTimeOffset PreviousSecretExpiresOn);

public static class ManageWebhooksEndpoints
{
    public static readonly TimeSpan RotationOverlap = TimeSpan.FromHours(24);

    /// <summary>How many times a change is applied again when another write to the endpoint committed first.</summary>
    public const int ChangeAttempts = 5;

    [Authorize(Scopes.WebhooksManage)]
    [WolverineGet("/v1/webhooks", OperationId = "listWebhooks", Summary = "List webhook endpoints")]
    [Tags("Webhooks")]
    [ProducesResponseType<WebhookList>(StatusCodes.Status200OK)]
    public static async Task<IResult> List(HttpContext http, IQuerySession session)
    {
        IQueryable<WebhookEndpoint> endpoints = session.Query<WebhookEndpoint>();
        if (!WebhookEndpoint.SeesAll(http.User))
        {
            var owner = WebhookEndpoint.TokenIdOf(http.User);
            endpoints = endpoints.Where(e => e.OwnerTokenId == owner);
        }
        var page = await endpoints.OrderBy(e => e.CreatedOn).ToListAsync(http.RequestAborted);
        return Results.Ok(new WebhookList([.. page.Select(e => WebhookView.From(e))]));
    }

    [Authorize(Scopes.WebhooksManage)]
    [WolverineGet("/v1/webhooks/{id}", OperationId = "getWebhook", Summary = "Get a webhook endpoint")]
    [Tags("Webhooks")]
    [ProducesResponseType<WebhookView>(StatusCodes.Status200OK)]
    public static IResult Get(WebhookEndpoint endpoint) => Results.Ok(WebhookView.From(endpoint));

    [Authorize(Scopes.WebhooksManage)]
    [WolverineDelete("/v1/webhooks/{id}", OperationId = "deleteWebhook", Summary = "Delete a webhook endpoint")]
    [Tags("Webhooks")]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    public static IResult Delete(WebhookEndpoint endpoint, IDocumentSession session)
    {
        session.Delete(endpoint);
        return Results.NoContent();
    }

    /// <summary>A new secret signs from now on; the previous one keeps signing too for 24 hours.</summary>
    [Authorize(Scopes.WebhooksManage)]
    [WolverinePost("/v1/webhooks/{id}/rotate-secret", OperationId = "rotateWebhookSecret", Summary = "Rotate a webhook endpoint's secret")]
    [Tags("Webhooks")]
    [ProducesResponseType<RotatedSecret>(StatusCodes.Status200OK)]
    public static async Task<IResult> Rotate(WebhookEndpoint endpoint, HttpContext http, IDocumentSession session, Runs.RunSecrets secrets, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        var expires = now + RotationOverlap;
        var secret = WebhookEndpoint.NewSecret();
        var sealedSecret = secrets.Seal(secret);
        return await ChangeAsync(session, endpoint, changing =>
        {
            changing.Secrets =
            [
                new WebhookSecret(sealedSecret, now, null),
                .. changing.Secrets.Where(s => s.ExpiresOn is null || s.ExpiresOn > now)
                    .Select(s => s with { ExpiresOn = s.ExpiresOn is { } e && e < expires ? e : expires }),
            ];
            return new RotatedSecret(changing.Id, secret, expires);
        }, http.RequestAborted);
    }

    public static async Task<ApiToken?> OwnerAsync(IQuerySession session, WebhookEndpoint endpoint, CancellationToken cancellation) =>
        endpoint.OwnerTokenId is { } owner ? await session.LoadAsync<ApiToken>(owner, cancellation) : null;

    /// <summary>
    /// Applies <paramref name="change"/> and commits it. The document is stored under optimistic
    /// concurrency, so when another write committed since it was read (a rotation, a PATCH, a delivery
    /// that disabled it) the change is applied again to what is there now instead of overwriting it.
    /// </summary>
    internal static async Task<IResult> ChangeAsync<T>(
        IDocumentSession session, WebhookEndpoint endpoint, Func<WebhookEndpoint, T> change, CancellationToken cancellation)
    {
        for (var attempt = 1; ; attempt++)
        {
            var answer = change(endpoint);
            session.Store(endpoint);
            try
            {
                await session.SaveChangesAsync(cancellation);
                return Results.Ok(answer);
            }
            catch (ConcurrencyException)
            {
                session.EjectAllPendingChanges();
                if (attempt == ChangeAttempts)
                {
                    return Problems.Conflict($"Webhook endpoint '{endpoint.Id}' kept changing under this request; nothing was changed. Retry.");
                }
                if (await session.LoadAsync<WebhookEndpoint>(endpoint.Id, cancellation) is not { } current)
                {
                    return Problems.NotFound($"No webhook endpoint '{endpoint.Id}'.");
                }
                endpoint = current;
            }
        }
    }
}

/// <summary><c>PATCH /v1/webhooks/{id}</c>, in a class of its own: its <c>ValidateAsync</c> runs before it alone.</summary>
public static class UpdateWebhookEndpoint
{
    public static Task<IResult> ValidateAsync(WebhookRequest body, HttpContext http, IOptions<RunsOptions> options, IHostEnvironment environment) =>
        body.RefusalAsync(http, creating: false, options.Value, environment);

    [Authorize(ScopePolicies.WebhookOwner)]
    [WolverinePatch("/v1/webhooks/{id}", OperationId = "updateWebhook", Summary = "Change a webhook endpoint")]
    [Tags("Webhooks")]
    [ProducesResponseType<WebhookView>(StatusCodes.Status200OK)]
    public static async Task<IResult> Patch(
        WebhookEndpoint endpoint, WebhookRequest body, HttpContext http, IDocumentSession session, TimeProvider clock)
    {
        // Re-enabling an endpoint whose owner is gone would only see it disabled again at the next run end.
        if (body.Enabled is true && endpoint.OwnerRefusal(await ManageWebhooksEndpoints.OwnerAsync(session, endpoint, http.RequestAborted), clock.GetUtcNow()) is { } refusal)
        {
            return Problems.Conflict($"Webhook endpoint '{endpoint.Id}' cannot be enabled: {refusal}.");
        }
        return await ManageWebhooksEndpoints.ChangeAsync(session, endpoint, changing =>
        {
            changing.Url = body.Url ?? changing.Url;
            changing.Events = body.Events is { } events ? [.. events.Distinct()] : changing.Events;
            changing.Jobs = body.Jobs is { } jobs ? [.. jobs.Distinct()] : changing.Jobs;
            changing.Description = body.Description ?? changing.Description;
            if (body.Enabled is { } enabled)
            {
                changing.Enabled = enabled;
                changing.DisabledReason = enabled ? null : $"disabled by {http.User.Actor()}";
            }
            return WebhookView.From(changing);
        }, http.RequestAborted);
    }
}

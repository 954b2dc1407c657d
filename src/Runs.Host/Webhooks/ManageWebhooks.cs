
namespace Runs.Host.Webhooks;

public sealed record WebhookList(IReadOnlyList<WebhookView> Webhooks);

public sealed record RotatedSecret(string Id, string Secret, DateTimeOffset PreviousSecretExpiresOn);

public static class ManageWebhooksEndpoints
{
    public static readonly TimeSpan RotationOverlap = TimeSpan.FromHours(24);

    /// <summary>How many times a change is applied again when another write to the endpoint committed first.</summary>
    public const int ChangeAttempts = 5;

    /// <summary>The endpoint, when it exists and the token may manage it; otherwise the answer to give.</summary>
    public static async Task<(WebhookEndpoint? Endpoint, IResult? Problem)> FindAsync(HttpContext http, IQuerySession session, string id)
    {
        var endpoint = id.Length <= 100 ? await session.LoadAsync<WebhookEndpoint>(id, http.RequestAborted) : null;
        return endpoint is not null && endpoint.ManageableBy(http.User)
            ? (endpoint, null)
            : (null, Problems.NotFound($"No webhook endpoint '{id}'."));
    }

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
    public static async Task<IResult> Get(string id, HttpContext http, IQuerySession session)
    {
        var (endpoint, problem) = await FindAsync(http, session, id);
        return problem ?? Results.Ok(WebhookView.From(endpoint!));
    }

    [Authorize(ScopePolicies.WebhookOwner)]
    [WolverinePatch("/v1/webhooks/{id}", OperationId = "updateWebhook", Summary = "Change a webhook endpoint")]
    [Tags("Webhooks")]
    [ProducesResponseType<WebhookView>(StatusCodes.Status200OK)]
    public static async Task<IResult> Patch(
        string id, WebhookRequest body, HttpContext http, JsonBody json, IDocumentSession session, IOptions<RunsOptions> options, IHostEnvironment environment,
        TimeProvider clock)
    {
        var (endpoint, problem) = await FindAsync(http, session, id);
        if (problem is not null)
        {
            return problem;
        }
        var allowPrivate = options.Value.Webhooks.AllowPrivateNetworks ?? environment.IsDevelopment();
        if (await body.ProblemsAsync(http.User, creating: false, allowPrivate, http.RequestAborted) is { Count: > 0 } problems)
        {
            return Problems.Invalid(problems);
        }
        // Re-enabling an endpoint whose owner is gone would only see it disabled again at the next run end.
        if (body.Enabled is true && endpoint!.OwnerRefusal(await OwnerAsync(session, endpoint, http.RequestAborted), clock.GetUtcNow()) is { } refusal)
        {
            return Problems.Conflict($"Webhook endpoint '{id}' cannot be enabled: {refusal}.");
        }
        return await ChangeAsync(session, endpoint!, changing =>
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

    [Authorize(Scopes.WebhooksManage)]
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
    [Authorize(Scopes.WebhooksManage)]
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
        var sealedSecret = secrets.Seal(secret);
        return await ChangeAsync(session, endpoint!, changing =>
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
    private static async Task<IResult> ChangeAsync<T>(
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

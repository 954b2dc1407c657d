using Marten.Patching;

namespace Runs.Host.Webhooks;

public sealed record DeliveryPage(IReadOnlyList<DeliveryView> Deliveries, string? NextPageToken);

/// <summary>The body of <c>POST /v1/webhooks/{id}/recover</c>.</summary>
public sealed record RecoverRequest(DateTimeOffset? Since = null)
{
    public sealed class Validator : AbstractValidator<RecoverRequest>
    {
        public Validator() => RuleFor(x => x.Since).NotNull().WithMessage("'since' is required: an RFC 3339 time.");
    }
}

public sealed record Recovered(int Requeued);

/// <summary>The query of an endpoint's deliveries: <c>page_size</c>, <c>page_token</c>.</summary>
public sealed record DeliveryQuery(int Size, PageCursor? After) : IQueryRequest<DeliveryQuery>
{
    public static (DeliveryQuery? Query, IResult? Refusal) Read(HttpRequest request)
    {
        var (size, after, problem) = PageSize.WithToken(request, 30, 1000,
            token => PageCursor.Decode(token, id => id.StartsWith("msg_", StringComparison.Ordinal)));
        return problem is null ? (new DeliveryQuery(size, after), null) : (null, problem);
    }

    public static IEnumerable<OpenApiParameter> Parameters => QueryParameters.Paging(30, 1000, "Deliveries");
}

public static class DeliveriesEndpoints
{
    [Authorize(Scopes.WebhooksManage)]
    [WolverineGet("/v1/webhooks/{id}/deliveries", OperationId = "listWebhookDeliveries", Summary = "List an endpoint's deliveries")]
    [Tags("Webhooks")]
    [ProducesResponseType<DeliveryPage>(StatusCodes.Status200OK)]
    public static async Task<IResult> List(DeliveryQuery query, WebhookEndpoint endpoint, HttpContext http, IQuerySession session)
    {
        var (pageSize, after) = (query.Size, query.After);
        var deliveries = session.Query<WebhookDelivery>().Where(d => d.EndpointId == endpoint.Id);
        if (after is not null)
        {
            var on = new DateTimeOffset(after.CreatedOn);
            deliveries = deliveries.Where(d => d.CreatedOn < on || (d.CreatedOn == on && string.Compare(d.Id, after.Id) < 0));
        }
        var page = await deliveries.OrderByDescending(d => d.CreatedOn).ThenByDescending(d => d.Id).Take(pageSize + 1).ToListAsync(http.RequestAborted);
        var next = page.Count > pageSize ? new PageCursor(page[pageSize - 1].CreatedOn.UtcDateTime, page[pageSize - 1].Id).Encode() : null;
        return Results.Ok(new DeliveryPage([.. page.Take(pageSize).Select(DeliveryView.From)], next));
    }

    /// <summary>
    /// Queues the same message again — same <c>webhook-id</c>, the retry schedule from the start, the body
    /// built from the run as it stands (without log text once the run's retention expired).
    /// </summary>
    [Authorize(Scopes.WebhooksManage)]
    [WolverinePost("/v1/webhooks/{id}/deliveries/{delivery}/redeliver", OperationId = "redeliverWebhook", Summary = "Deliver a message again")]
    [Tags("Webhooks")]
    [ProducesResponseType<DeliveryView>(StatusCodes.Status202Accepted)]
    public static async Task<IResult> Redeliver(WebhookEndpoint endpoint, string delivery, HttpContext http, IDocumentSession session, IMessageBus bus, TimeProvider clock)
    {
        var found = delivery.Length <= 100 ? await session.LoadAsync<WebhookDelivery>(delivery, http.RequestAborted) : null;
        if (found is null || found.EndpointId != endpoint.Id)
        {
            return Problems.NotFound($"No delivery '{delivery}' to webhook endpoint '{endpoint.Id}'.");
        }
        await Requeue(session, bus, found, clock.GetUtcNow());
        return Results.Accepted(value: DeliveryView.From(found));
    }

    [Authorize(Scopes.WebhooksManage)]
    [WolverinePost("/v1/webhooks/{id}/recover", OperationId = "recoverWebhookDeliveries", Summary = "Deliver again what failed since a time")]
    [Tags("Webhooks")]
    [ProducesResponseType<Recovered>(StatusCodes.Status202Accepted)]
    public static async Task<IResult> Recover(WebhookEndpoint endpoint, RecoverRequest body, HttpContext http, IDocumentSession session, IMessageBus bus, TimeProvider clock)
    {
        var since = body.Since!.Value;
        var failed = await session.Query<WebhookDelivery>()
            .Where(d => d.EndpointId == endpoint.Id && d.CreatedOn >= since
                && (d.Status == WebhookDelivery.Failed || d.Status == WebhookDelivery.DeadLettered))
            .ToListAsync(http.RequestAborted);
        var now = clock.GetUtcNow();
        foreach (var delivery in failed)
        {
            await Requeue(session, bus, delivery, now);
        }
        return Results.Accepted(value: new Recovered(failed.Count));
    }

    /// <summary>
    /// Marks the delivery pending with a patch, not a read-modify-write, so attempts a handler records
    /// meanwhile are kept (and that handler's own write, now stale, is retried on top of this one).
    /// </summary>
    private static async Task Requeue(IDocumentSession session, IMessageBus bus, WebhookDelivery delivery, DateTimeOffset now)
    {
        delivery.Status = WebhookDelivery.Pending;
        delivery.NextAttemptOn = now;
        delivery.LastChangedOn = now;
        session.Patch<WebhookDelivery>(delivery.Id)
            .Set(d => d.Status, WebhookDelivery.Pending)
            .Set(d => d.NextAttemptOn, now)
            .Set(d => d.LastChangedOn, now);
        await bus.PublishAsync(new DeliverWebhook(delivery.Id, delivery.EndpointId));
    }
}


namespace Runs.Host.Webhooks;

/// <summary>
/// A run ended: its terminal event, forwarded by Marten to Wolverine's outbox in the event's own transaction
/// (<see cref="TerminalNotices"/>). <paramref name="Job"/> is given by messages queued before forwarding; it is
/// looked up otherwise.
/// </summary>
public sealed record RunEnded(string Run, string EventType, string? Job = null);

/// <summary>
/// Fans a run's end out to the endpoints that subscribe to it: one <see cref="WebhookDelivery"/> and one
/// <see cref="DeliverWebhook"/> per endpoint, in one transaction of its own (the outbox again). Endpoints
/// whose owner token was revoked, has expired or may not read the job are disabled instead, saying why.
/// </summary>
public static class RunEndedHandler
{
    /// <summary>
    /// Enabled endpoints subscribed to the event whose jobs (names, globs, <c>*</c>) match the run's job,
    /// chosen in SQL: a glob becomes a LIKE pattern (<c>_</c> escaped, <c>*</c> as <c>%</c>; job names
    /// hold no <c>%</c> or backslash).
    /// </summary>
    private const string Subscribed =
        "where (data ->> 'enabled')::boolean and jsonb_exists(data -> 'events', ?) " +
        "and exists (select 1 from jsonb_array_elements_text(data -> 'jobs') as g(pattern) " +
        "where ? like replace(replace(g.pattern, '_', '\\_'), '*', '%'))";

    /// <summary>A lost race with an edit of the endpoint, or a passing database fault, is tried again before the message is dead-lettered.</summary>
    public static void Configure(HandlerChain chain) =>
        chain.OnAnyException()
            .RetryWithCooldown(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2))
            .Then.ScheduleRetry(TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30));

    public static async Task Handle(RunEnded message, IDocumentSession session, IMessageContext bus, TimeProvider clock, CancellationToken cancellation)
    {
        if ((message.Job ?? (await session.LoadAsync<Run>(message.Run, cancellation))?.Job) is not { } job)
        {
            return;
        }
        var endpoints = await session.QueryAsync<WebhookEndpoint>(Subscribed, cancellation, message.EventType, job);
        if (endpoints.Count == 0)
        {
            return;
        }
        var ownerIds = endpoints.Select(e => e.OwnerTokenId).OfType<string>().Distinct().ToArray();
        var owners = (await session.LoadManyAsync<ApiToken>(cancellation, ownerIds)).ToDictionary(t => t.Id);
        var ids = endpoints.ToDictionary(e => e.Id, e => WebhookDelivery.IdFor(message.Run, message.EventType, e.Id));
        // A fan-out handled a second time (after a crash between commit and acknowledgement) adds nothing.
        var existing = (await session.LoadManyAsync<WebhookDelivery>(cancellation, ids.Values)).Select(d => d.Id).ToHashSet();

        var now = clock.GetUtcNow();
        foreach (var endpoint in endpoints)
        {
            var owner = endpoint.OwnerTokenId is { } ownerId ? owners.GetValueOrDefault(ownerId) : null;
            if (endpoint.OwnerRefusal(owner, now, job) is { } refusal)
            {
                endpoint.Enabled = false;
                endpoint.DisabledReason = refusal;
                session.Store(endpoint);
                continue;
            }
            if (!existing.Add(ids[endpoint.Id]))
            {
                continue;
            }
            session.Insert(new WebhookDelivery
            {
                Id = ids[endpoint.Id],
                EndpointId = endpoint.Id,
                EventType = message.EventType,
                Run = message.Run,
                Job = job,
                CreatedOn = now,
                LastChangedOn = now,
                NextAttemptOn = now,
            });
            await bus.PublishAsync(new DeliverWebhook(ids[endpoint.Id], endpoint.Id));
        }
    }
}

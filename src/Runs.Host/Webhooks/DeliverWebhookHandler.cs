
namespace Runs.Host.Webhooks;

/// <summary>The last retry failed: Wolverine moves the message to its dead-letter storage.</summary>
public sealed class WebhookDeadLettered(string deliveryId, string reason)
    : Exception($"Delivery {deliveryId} failed on every retry: {reason}");

/// <summary>
/// Delivers one message per the Standard Webhooks specification, records the attempt, and schedules the
/// next retry (durably, through the outbox) with jitter and any Retry-After — or dead-letters it.
/// </summary>
public static class DeliverWebhookHandler
{
    public const string ClientName = "webhooks";
    public const int MaxResponseBytes = 4096;

    /// <summary>How long a message is put back when its owner's turns and line are full; not an attempt.</summary>
    public static readonly TimeSpan NoTurnWait = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A delivery record changed by a redelivery while an attempt was being recorded: the message is
    /// handled again from the record as it is now, so neither change is lost.
    /// </summary>
    public static void Configure(HandlerChain chain) =>
        chain.OnException<ConcurrencyException>()
            .RetryWithCooldown(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1));

    public static async Task Handle(
        DeliverWebhook message,
        IDocumentSession session,
        IDocumentStore store,
        IHttpClientFactory clients,
        DeliveryTurns turns,
        Runs.RunSecrets secrets,
        IOptions<RunsOptions> options,
        Http.JsonBody json,
        IMessageContext context,
        TimeProvider clock,
        CancellationToken cancellation)
    {
        var delivery = await session.LoadAsync<WebhookDelivery>(message.DeliveryId, cancellation);
        if (delivery is null || delivery.Status == WebhookDelivery.Succeeded)
        {
            return;
        }
        var endpoint = await session.LoadAsync<WebhookEndpoint>(message.EndpointId, cancellation);
        var now = clock.GetUtcNow();
        if (endpoint is null || !endpoint.Enabled)
        {
            Fail(session, delivery, now, endpoint is null ? "The endpoint was deleted." : $"The endpoint is disabled ({endpoint.DisabledReason ?? "by a client"}).");
            return;
        }
        var owner = await ManageWebhooksEndpoints.OwnerAsync(session, endpoint, cancellation);
        if (endpoint.OwnerRefusal(owner, now, delivery.Job) is { } refusal)
        {
            endpoint.Enabled = false;
            endpoint.DisabledReason = refusal;
            session.Store(endpoint);
            Fail(session, delivery, now, $"Not sent: {refusal}; the endpoint is disabled.");
            return;
        }
        if (await session.LoadAsync<Run>(delivery.Run, cancellation) is not { } run)
        {
            Fail(session, delivery, now, $"Not sent: run '{delivery.Run}' no longer exists.");
            return;
        }

        using var turn = await turns.WaitAsync(endpoint.OwnerTokenId!, cancellation);
        if (!turn.IsAcquired)
        {
            await context.ScheduleAsync(message, NoTurnWait);
            return;
        }
        now = clock.GetUtcNow();
        var webhooks = options.Value.Webhooks;
        var payload = TerminalNotices.Payload(delivery.EventType, run, json.StoredJsonOptions);
        var (status, error, retryAfter, elapsed) = await SendAsync(clients, endpoint, delivery.Id, payload, secrets, now, webhooks.Timeout, cancellation);
        delivery.Attempts.Add(new DeliveryAttempt(delivery.Attempts.Count + 1, now, status, elapsed, error));
        delivery.LastChangedOn = now;

        if (status is >= 200 and < 300)
        {
            delivery.Status = WebhookDelivery.Succeeded;
            delivery.NextAttemptOn = null;
            session.Store(delivery);
            return;
        }
        if (status == 410)
        {
            endpoint.Enabled = false;
            endpoint.DisabledReason = $"it answered 410 Gone on {Rfc3339Converter.Text(now)}";
            delivery.Status = WebhookDelivery.Failed;
            delivery.NextAttemptOn = null;
            session.Store(endpoint);
            session.Store(delivery);
            return;
        }

        var schedule = webhooks.Retries();
        if (message.Attempt > schedule.Count)
        {
            delivery.Status = WebhookDelivery.DeadLettered;
            delivery.NextAttemptOn = null;
            // The handler's own transaction rolls back when it throws; the record must survive that, and
            // is checked against the version this handler read like any other write of it.
            await using var record = store.LightweightSession();
            record.UpdateExpectedVersion(delivery, session.VersionFor(delivery)!.Value);
            await record.SaveChangesAsync(cancellation);
            throw new WebhookDeadLettered(delivery.Id, error ?? $"HTTP {status}");
        }

        var wait = Jittered(schedule[message.Attempt - 1]);
        if (retryAfter is { } asked && asked > wait)
        {
            wait = asked;
        }
        delivery.Status = WebhookDelivery.Pending;
        delivery.NextAttemptOn = now + wait;
        session.Store(delivery);
        await context.ScheduleAsync(message with { Attempt = message.Attempt + 1 }, wait);
    }

    private static void Fail(IDocumentSession session, WebhookDelivery delivery, DateTimeOffset now, string reason)
    {
        delivery.Status = WebhookDelivery.Failed;
        delivery.NextAttemptOn = null;
        delivery.LastChangedOn = now;
        delivery.Attempts.Add(new DeliveryAttempt(delivery.Attempts.Count + 1, now, null, 0, reason));
        session.Store(delivery);
    }

    /// <summary>
    /// One attempt, bounded as a whole by <paramref name="timeout"/>: connecting, sending, the answer's
    /// headers and, for a failure, its first 4 KiB. A receiver that trickles its answer is cut off there
    /// like one that never answers. Stopping the host cancels an attempt under way without recording it.
    /// </summary>
    private static async Task<(int? Status, string? Error, TimeSpan? RetryAfter, long ElapsedMs)> SendAsync(
        IHttpClientFactory clients, WebhookEndpoint endpoint, string id, string payload, Runs.RunSecrets secrets, DateTimeOffset now,
        TimeSpan timeout, CancellationToken cancellation)
    {
        var timestamp = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signatures = endpoint.SigningSecrets(now)
            .Select(s => Sign(secrets.Open(s.Sealed), id, timestamp, payload));
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url)
        {
            Content = new StringContent(payload, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", timestamp);
        request.Headers.TryAddWithoutValidation("webhook-signature", string.Join(' ', signatures));
        request.Headers.UserAgent.ParseAdd("Runs-Webhooks/1");

        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        attempt.CancelAfter(timeout);
        var clock = Stopwatch.StartNew();
        int? status = null;
        try
        {
            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt.Token);
            status = (int)response.StatusCode;
            var retryAfter = response.Headers.RetryAfter switch
            {
                { Delta: { } delta } => delta,
                { Date: { } date } => date - now,
                _ => (TimeSpan?)null,
            };
            // Success needs no body; a failure keeps the start of what the receiver said.
            var error = status is >= 200 and < 300 ? null : $"HTTP {status}: {await ReadExcerptAsync(response, attempt.Token)}";
            return (status, error, retryAfter, clock.ElapsedMilliseconds);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            var limit = $"{timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s";
            return (status, status is null ? $"timed out: no answer within {limit}" : $"HTTP {status}, then timed out: the answer did not arrive within {limit}",
                null, clock.ElapsedMilliseconds);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return (status, e.InnerException?.Message ?? e.Message, null, clock.ElapsedMilliseconds);
        }
    }

    /// <summary><c>v1,</c> + base64 HMAC-SHA256 of <c>id.timestamp.body</c>, keyed by the secret's decoded bytes.</summary>
    public static string Sign(string secret, string id, string timestamp, string body)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}"));
        return "v1," + Convert.ToBase64String(mac);
    }

    private static async Task<string> ReadExcerptAsync(HttpResponseMessage response, CancellationToken cancellation)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellation);
        var buffer = new byte[MaxResponseBytes];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellation)) > 0)
        {
            total += read;
        }
        // Kept in a jsonb document, which cannot hold U+0000: a binary or UTF-16 error page would fail the save of
        // the attempt (and of its dead letter) instead of being shown, so NUL is shown as U+FFFD like bytes that are not UTF-8.
        return Encoding.UTF8.GetString(buffer, 0, total).Replace('\0', '\uFFFD');
    }

    private static TimeSpan Jittered(TimeSpan wait) =>
        TimeSpan.FromMilliseconds(wait.TotalMilliseconds * (0.9 + Random.Shared.NextDouble() * 0.2));
}

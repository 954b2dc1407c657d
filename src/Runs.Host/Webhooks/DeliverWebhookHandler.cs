using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Marten;
using Microsoft.Extensions.Options;
using Wolverine;

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

    public static async Task Handle(
        DeliverWebhook message,
        IDocumentSession session,
        IDocumentStore store,
        IHttpClientFactory clients,
        Runs.RunSecrets secrets,
        IOptions<RunsOptions> options,
        IMessageContext context,
        TimeProvider clock)
    {
        var delivery = await session.LoadAsync<WebhookDelivery>(message.DeliveryId);
        var endpoint = await session.LoadAsync<WebhookEndpoint>(message.EndpointId);
        var now = clock.GetUtcNow();
        if (delivery is null || delivery.Status == WebhookDelivery.Succeeded)
        {
            return;
        }
        if (endpoint is null || !endpoint.Enabled)
        {
            delivery.Status = WebhookDelivery.Failed;
            delivery.NextAttemptOn = null;
            delivery.LastChangedOn = now;
            delivery.Attempts.Add(new DeliveryAttempt(delivery.Attempts.Count + 1, now, null, 0,
                endpoint is null ? "The endpoint was deleted." : $"The endpoint is disabled ({endpoint.DisabledReason ?? "by a client"})."));
            session.Store(delivery);
            return;
        }

        var (status, error, retryAfter, elapsed) = await SendAsync(clients, endpoint, delivery, secrets, now);
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
            endpoint.DisabledReason = $"it answered 410 Gone on {now:O}";
            delivery.Status = WebhookDelivery.Failed;
            delivery.NextAttemptOn = null;
            session.Store(endpoint);
            session.Store(delivery);
            return;
        }

        var schedule = options.Value.Webhooks.Retries();
        if (message.Attempt > schedule.Count)
        {
            delivery.Status = WebhookDelivery.DeadLettered;
            delivery.NextAttemptOn = null;
            // The handler's own transaction rolls back when it throws; the record must survive that.
            await using var record = store.LightweightSession();
            record.Store(delivery);
            await record.SaveChangesAsync();
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

    private static async Task<(int? Status, string? Error, TimeSpan? RetryAfter, long ElapsedMs)> SendAsync(
        IHttpClientFactory clients, WebhookEndpoint endpoint, WebhookDelivery delivery, Runs.RunSecrets secrets, DateTimeOffset now)
    {
        var timestamp = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signatures = endpoint.SigningSecrets(now)
            .Select(s => Sign(secrets.Open(s.Sealed), delivery.Id, timestamp, delivery.Payload));
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url)
        {
            Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("webhook-id", delivery.Id);
        request.Headers.Add("webhook-timestamp", timestamp);
        request.Headers.TryAddWithoutValidation("webhook-signature", string.Join(' ', signatures));
        request.Headers.UserAgent.ParseAdd("Runs-Webhooks/1");

        var clock = Stopwatch.StartNew();
        try
        {
            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var excerpt = await ReadExcerptAsync(response);
            var status = (int)response.StatusCode;
            var retryAfter = response.Headers.RetryAfter switch
            {
                { Delta: { } delta } => delta,
                { Date: { } date } => date - now,
                _ => (TimeSpan?)null,
            };
            return (status, status is >= 200 and < 300 ? null : $"HTTP {status}: {excerpt}", retryAfter, clock.ElapsedMilliseconds);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            var reason = e is TaskCanceledException ? "timed out" : e.InnerException?.Message ?? e.Message;
            return (null, reason, null, clock.ElapsedMilliseconds);
        }
    }

    /// <summary><c>v1,</c> + base64 HMAC-SHA256 of <c>id.timestamp.body</c>, keyed by the secret's decoded bytes.</summary>
    public static string Sign(string secret, string id, string timestamp, string body)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}"));
        return "v1," + Convert.ToBase64String(mac);
    }

    private static async Task<string> ReadExcerptAsync(HttpResponseMessage response)
    {
        await using var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[MaxResponseBytes];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total))) > 0)
        {
            total += read;
        }
        return Encoding.UTF8.GetString(buffer, 0, total);
    }

    private static TimeSpan Jittered(TimeSpan wait) =>
        TimeSpan.FromMilliseconds(wait.TotalMilliseconds * (0.9 + Random.Shared.NextDouble() * 0.2));
}


namespace Runs.Host.Webhooks;

/// <summary>One try at handing a message to an endpoint.</summary>
public sealed record DeliveryAttempt(int Attempt, DateTimeOffset At, int? ResponseStatus, long DurationMs, string? Error);

/// <summary>
/// One message to one endpoint, across all its attempts: what the deliveries list shows. Its id is the
/// <c>webhook-id</c> header, the same on every retry and redelivery. It holds no run data: each attempt
/// builds the body from the run as it stands, so once the run's retention expires no log text is kept
/// here or sent again. Stored under optimistic concurrency, so attempts being recorded are never lost.
/// </summary>
public sealed class WebhookDelivery
{
    public string Id { get; set; } = "";
    public string EndpointId { get; set; } = "";
    public string EventType { get; set; } = "";
    public string Run { get; set; } = "";
    public string Job { get; set; } = "";
    public string Status { get; set; } = Pending;
    public List<DeliveryAttempt> Attempts { get; set; } = [];
    public DateTimeOffset? NextAttemptOn { get; set; }
    public DateTimeOffset CreatedOn { get; set; }
    public DateTimeOffset LastChangedOn { get; set; }

    public const string Pending = "pending";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string DeadLettered = "dead_lettered";

    /// <summary>
    /// <c>msg_</c> and 32 hex digits derived from the run, the event and the endpoint: a run ends once,
    /// so each endpoint gets one message per run end, whatever handles the fan-out how many times.
    /// </summary>
    public static string IdFor(string run, string eventType, string endpointId) =>
        "msg_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{run}\n{eventType}\n{endpointId}")), 0, 16);
}

public sealed record DeliveryView(
    string Id, string EndpointId, string EventType, string Run, string Job, string Status,
    IReadOnlyList<DeliveryAttempt> Attempts, DateTimeOffset? NextAttemptOn, DateTimeOffset CreatedOn)
{
    public static DeliveryView From(WebhookDelivery d) =>
        new(d.Id, d.EndpointId, d.EventType, d.Run, d.Job, d.Status, d.Attempts, d.NextAttemptOn, d.CreatedOn);
}

/// <summary>The Wolverine message that carries one delivery; <c>Attempt</c> counts from 1.</summary>
public sealed record DeliverWebhook(string DeliveryId, string EndpointId, int Attempt = 1);

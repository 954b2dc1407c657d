namespace Runs.Host.Webhooks;

/// <summary>One try at handing a message to an endpoint.</summary>
public sealed record DeliveryAttempt(int Attempt, DateTimeOffset At, int? ResponseStatus, long DurationMs, string? Error);

/// <summary>
/// One message to one endpoint, across all its attempts: what the deliveries list shows. Its id is the
/// <c>webhook-id</c> header, the same on every retry and redelivery.
/// </summary>
public sealed class WebhookDelivery
{
    public string Id { get; set; } = "";
    public string EndpointId { get; set; } = "";
    public string EventType { get; set; } = "";
    public string Run { get; set; } = "";
    public string Job { get; set; } = "";
    public string Payload { get; set; } = "";
    public string Status { get; set; } = Pending;
    public List<DeliveryAttempt> Attempts { get; set; } = [];
    public DateTimeOffset? NextAttemptOn { get; set; }
    public DateTimeOffset CreatedOn { get; set; }
    public DateTimeOffset LastChangedOn { get; set; }

    public const string Pending = "pending";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string DeadLettered = "dead_lettered";
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

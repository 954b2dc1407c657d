
namespace Runs.Host.Webhooks;

/// <summary>The <c>Runs:Webhooks</c> settings.</summary>
public sealed class WebhooksOptions
{
    public const string DefaultRetrySchedule = "00:00:05,00:05:00,00:30:00,02:00:00,05:00:00,10:00:00,10:00:00";

    /// <summary>Waits before each retry, comma-separated; after the last one the message is dead-lettered.</summary>
    public string RetrySchedule { get; set; } = DefaultRetrySchedule;

    /// <summary>Whether deliveries may go to loopback, link-local and private addresses. Unset: true only in Development.</summary>
    public bool? AllowPrivateNetworks { get; set; }

    /// <summary>The whole of one attempt: connecting, sending, and the answer's status and (for a failure) its first 4 KiB.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Endpoints one token may own; one more answers 409.</summary>
    public int MaxEndpointsPerToken { get; set; } = 20;

    /// <summary>Attempts one host makes at once, across all endpoints.</summary>
    public int MaxConcurrentDeliveries { get; set; } = 64;

    /// <summary>Attempts one host makes at once to the endpoints of one token; as many more wait in line, the rest are put back.</summary>
    public int MaxConcurrentDeliveriesPerToken { get; set; } = 8;

    public IReadOnlyList<TimeSpan> Retries() =>
        [.. RetrySchedule.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(s => TimeSpan.Parse(s, CultureInfo.InvariantCulture))];

    public string? Problem()
    {
        if (Timeout <= TimeSpan.Zero)
        {
            return "Runs:Webhooks:Timeout must be positive.";
        }
        if (MaxEndpointsPerToken < 1 || MaxConcurrentDeliveries < 1 || MaxConcurrentDeliveriesPerToken < 1)
        {
            return "Runs:Webhooks:MaxEndpointsPerToken, MaxConcurrentDeliveries and MaxConcurrentDeliveriesPerToken must be at least 1.";
        }
        try
        {
            return Retries().Any(t => t < TimeSpan.Zero) ? "Runs:Webhooks:RetrySchedule must not hold negative waits." : null;
        }
        catch (FormatException)
        {
            return "Runs:Webhooks:RetrySchedule must be comma-separated TimeSpans such as 00:00:05,00:05:00.";
        }
        catch (OverflowException)
        {
            return "Runs:Webhooks:RetrySchedule holds a wait that is too long.";
        }
    }
}

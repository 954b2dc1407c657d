using System.Globalization;

namespace Runs.Host.Webhooks;

/// <summary>The <c>Runs:Webhooks</c> settings.</summary>
public sealed class WebhooksOptions
{
    public const string DefaultRetrySchedule = "00:00:05,00:05:00,00:30:00,02:00:00,05:00:00,10:00:00,10:00:00";

    /// <summary>Waits before each retry, comma-separated; after the last one the message is dead-lettered.</summary>
    public string RetrySchedule { get; set; } = DefaultRetrySchedule;

    /// <summary>Whether deliveries may go to loopback, link-local and private addresses. Unset: true only in Development.</summary>
    public bool? AllowPrivateNetworks { get; set; }

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    public IReadOnlyList<TimeSpan> Retries() =>
        [.. RetrySchedule.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(s => TimeSpan.Parse(s, CultureInfo.InvariantCulture))];

    public string? Problem()
    {
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

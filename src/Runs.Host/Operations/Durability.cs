
namespace Runs.Host.Operations;

/// <summary>
/// The <c>Runs:Durability</c> settings: how fast the hosts sharing a database notice that one of them died
/// and take over what it owned (webhook deliveries waiting in its durable inbox, scheduled retries), and how
/// long a stopping host may take. Wolverine's own defaults (a node is stale after a minute, checked every ten
/// seconds) left a dead host's deliveries waiting over a minute; these are tuned for seconds.
/// </summary>
public sealed class DurabilityOptions
{
    /// <summary>How often each host writes its heartbeat and looks for hosts whose heartbeat stopped.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A host whose last heartbeat is older than this is stale.</summary>
    public TimeSpan StaleNodeTimeout { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>
    /// Consecutive checks that must find a host stale before it is ejected and its work released: hysteresis
    /// so a host that is only slow for a moment is not robbed of messages it is still handling.
    /// </summary>
    public int StaleNodeChecks { get; set; } = 2;

    /// <summary>How often released or orphaned messages, and scheduled retries that are due, are looked for.</summary>
    public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>On shutdown, how long message handlers already running (a webhook delivery in flight) may take to finish.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>On shutdown, how long requests already running may take to finish before the host stops regardless.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public void ApplyTo(DurabilitySettings durability)
    {
        durability.HealthCheckPollingTime = HeartbeatInterval;
        // A host started in place of a dead one looks for stale hosts (its predecessor) at once.
        durability.FirstHealthCheckExecution = TimeSpan.Zero;
        durability.StaleNodeTimeout = StaleNodeTimeout;
        durability.StaleNodeEjectionThreshold = StaleNodeChecks;
        durability.ScheduledJobPollingTime = RecoveryInterval;
        durability.ScheduledJobFirstExecution = RecoveryInterval;
        durability.OrphanedMessageSweepPollingTime = RecoveryInterval;
        durability.NodeReassignmentPollingTime = RecoveryInterval;
        durability.FirstNodeReassignmentExecution = TimeSpan.Zero;
        durability.DrainTimeout = DrainTimeout;
        // A heartbeat a second would otherwise be a trace a second.
        durability.NodeAssignmentHealthCheckTraceSamplingPeriod = TimeSpan.FromMinutes(10);
    }

    public IEnumerable<string> Problems()
    {
        if (HeartbeatInterval < TimeSpan.FromMilliseconds(100))
        {
            yield return "Runs:Durability:HeartbeatInterval must be at least 00:00:00.1.";
        }
        if (StaleNodeTimeout < 2 * HeartbeatInterval)
        {
            yield return "Runs:Durability:StaleNodeTimeout must be at least twice Runs:Durability:HeartbeatInterval, or live hosts would be taken for dead.";
        }
        if (StaleNodeChecks < 1)
        {
            yield return "Runs:Durability:StaleNodeChecks must be at least 1.";
        }
        if (RecoveryInterval < TimeSpan.FromMilliseconds(100))
        {
            yield return "Runs:Durability:RecoveryInterval must be at least 00:00:00.1.";
        }
        if (DrainTimeout < TimeSpan.Zero || ShutdownTimeout < TimeSpan.Zero)
        {
            yield return "Runs:Durability:DrainTimeout and Runs:Durability:ShutdownTimeout must not be negative.";
        }
    }
}

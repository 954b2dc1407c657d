namespace Runs.Host.Tests.Harness;

/// <summary>
/// The hosts' clock: the system's time plus an offset a test moves forward instead of sleeping (a run's
/// retention expiring, two events a known time apart). Time still passes on its own, so everything that
/// waits on real time keeps working.
/// </summary>
public sealed class ShiftedClock : TimeProvider
{
    private long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}

public static class ShiftedClocks
{
    /// <summary>Moves the host's clock forward.</summary>
    public static void AdvanceClock(this IAlbaHost host, TimeSpan by) =>
        ((ShiftedClock)host.Services.GetRequiredService<TimeProvider>()).Advance(by);

    /// <summary>The host's time now.</summary>
    public static DateTimeOffset Now(this IAlbaHost host) => host.Services.GetRequiredService<TimeProvider>().GetUtcNow();
}

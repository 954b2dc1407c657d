using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Runs.Domain.Tests;

[CollectionDefinition(nameof(ScrubbingCostTests), DisableParallelization = true)]
public sealed class ScrubbingCostCollection;

/// <summary>
/// Linear work makes eight times the text cost about eight times as much; quadratic work (the review's
/// H1) makes it 64 times. Measured alone (no other test runs meanwhile), in the thread's own CPU time,
/// as the best of several runs with the garbage collector settled, so that the machine's noise stays
/// out of a generous bound.
/// </summary>
[Collection(nameof(ScrubbingCostTests))]
public sealed class ScrubbingCostTests
{
    private const double Bound = 24;

    // Every letter of "a-a-a…" could start a URL scheme, so the old expression tried each and read on.
    [Theory]
    [InlineData("a-")]
    [InlineData("a:")]
    [InlineData("://a:")]
    [InlineData("password=\"")]
    [InlineData("Bearer ")]
    [InlineData("authorization: a ")]
    [InlineData("ghp_")]
    public void Scrubbing_cost_grows_linearly_with_the_text(string unit)
    {
        var scrubber = new Scrubber(["a-a-a-a-b", "::::a::::b"]);
        var ratio = CostRatio(n => string.Concat(Enumerable.Repeat(unit, n / unit.Length)), text => scrubber.Scrub(text));
        Assert.True(ratio < Bound, $"8x the text of '{unit}' cost {ratio:F1}x as much");
    }

    [Fact]
    public void Seeking_secrets_costs_linear_time_even_when_text_and_secrets_repeat_one_character()
    {
        // Every window of the text is a prefix of every secret: the worst case for IndexOf per secret.
        var secrets = Enumerable.Range(Scrubber.MinimumSecretLength, 30).Select(n => new string('a', n - 1) + "b");
        var scrubber = new Scrubber(secrets.Append(new string('a', 5000) + "b"));
        var ratio = CostRatio(n => new string('a', n), text => scrubber.ScrubLines([text], int.MaxValue - Scrubber.Reach, " …"));
        Assert.True(ratio < Bound, $"8x the text cost {ratio:F1}x as much");
    }

    [Fact]
    public void Lines_are_cut_before_they_are_scrubbed_so_a_long_line_costs_what_a_cut_one_does()
    {
        var scrubber = new Scrubber(["a-a-a-a-b"]);
        var ratio = CostRatio(n => string.Concat(Enumerable.Repeat("a-", n)), text => scrubber.ScrubLines([text], 4096, " …"));
        Assert.True(ratio < 3, $"8x the line cost {ratio:F1}x as much");
    }

    // Runs alternate between the two texts, so the JIT's tiers and the machine's state favour neither.
    private static double CostRatio(Func<int, string> text, Action<string> scrub)
    {
        const int n = 16 * 1024;
        var (small, large) = (text(n), text(8 * n));
        var (bestSmall, bestLarge) = (double.MaxValue, double.MaxValue);
        for (var i = 0; i < 12; i++)
        {
            bestSmall = Math.Min(bestSmall, Time(() => scrub(small)));
            bestLarge = Math.Min(bestLarge, Time(() => scrub(large)));
        }
        return bestLarge / bestSmall;
    }

    private static double Time(Action action)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var start = ThreadTime();
        action();
        return ThreadTime() - start;
    }

    // On Linux the time this thread ran, so other processes on a busy machine are not counted against
    // either text (a short run fits between them, a long one does not); elsewhere the wall clock.
    private static double ThreadTime() =>
        OperatingSystem.IsLinux() && ClockGetTime(ThreadCpuClock, out var time) == 0
            ? time.Seconds * 1e3 + time.Nanoseconds / 1e6
            : Stopwatch.GetElapsedTime(0).TotalMilliseconds;

    private const int ThreadCpuClock = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);
}

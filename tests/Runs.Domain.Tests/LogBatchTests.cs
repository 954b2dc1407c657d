
namespace Runs.Domain.Tests;

public sealed class LogBatchTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 13, 8, 0, 0, TimeSpan.Zero);

    private static Run NewRun() => Run.From(new Triggered(
        "20260613-080000-0123456789abcdef", "nightly", "api", null, null, null, null, null, [],
        new Dictionary<string, string>(), null, [], "tester", Now));

    private static LogLineInput[] Lines(int count, LogLevel level = LogLevel.Info) =>
        [.. Enumerable.Range(1, count).Select(i => new LogLineInput(level, $"line {i}"))];

    [Fact]
    public void Line_ids_continue_after_the_runs_last_line_without_gaps()
    {
        var run = NewRun();
        var (first, e1) = LogBatch.Append(run, Lines(3), new LogLimits(), Scrubber.Patterns, Now);
        run = Run.Fold(run, e1);
        var (second, e2) = LogBatch.Append(run, Lines(2), new LogLimits(), Scrubber.Patterns, Now);

        Assert.Equal([1L, 2, 3], first.Select(l => l.Id));
        Assert.Equal([4L, 5], second.Select(l => l.Id));
        Assert.Equal((4L, 5L), (e2.FirstLineId!.Value, e2.LastLineId!.Value));
    }

    [Fact]
    public void Past_the_cap_lines_are_dropped_and_one_uncounted_marker_says_so()
    {
        var limits = new LogLimits(MaxLinesPerRun: 5);
        var run = NewRun();
        var (lines, appended) = LogBatch.Append(run, Lines(8), limits, Scrubber.Patterns, Now);
        run = Run.Fold(run, appended);

        Assert.Equal(6, lines.Count);
        Assert.Contains("cap of 5 lines", lines[^1].Message);
        Assert.Equal((5, 3), (appended.Appended, appended.Dropped));
        Assert.Equal((5L, 3L), (run.LogLines, run.LogLinesDropped));

        var (more, again) = LogBatch.Append(run, Lines(4), limits, Scrubber.Patterns, Now);
        run = Run.Fold(run, again);
        Assert.Empty(more);
        Assert.Equal(7L, run.LogLinesDropped);
        Assert.Null(again.FirstLineId);
    }

    [Fact]
    public void Over_long_lines_are_cut_with_a_marker()
    {
        var input = new[] { new LogLineInput(LogLevel.Info, new string('x', 200)) };
        var (lines, _) = LogBatch.Append(NewRun(), input, new LogLimits(MaxLineLength: 100), Scrubber.Patterns, Now);
        Assert.Equal(new string('x', 100) + LogBatch.TruncationMarker, lines[0].Message);
    }

    [Fact]
    public void Lines_are_scrubbed_across_the_cut_and_across_the_lines_of_the_batch()
    {
        var scrubber = new Scrubber(["s3cr3t-value"]);
        var input = new[]
        {
            new LogLineInput(LogLevel.Info, new string('x', 95) + "s3cr3t-value and more"),
            new LogLineInput(LogLevel.Error, "token s3cr3t"),
            new LogLineInput(LogLevel.Error, "-value used"),
        };

        var (lines, appended) = LogBatch.Append(NewRun(), input, new LogLimits(MaxLineLength: 100), scrubber, Now);

        Assert.Equal([new string('x', 95) + LogBatch.TruncationMarker, "token [REDACTED]", "[REDACTED] used"], lines.Select(l => l.Message));
        Assert.Equal(["token [REDACTED]", "[REDACTED] used"], appended.ErrorLines);
    }

    [Fact]
    public void The_last_five_error_lines_are_kept_on_the_run()
    {
        var run = NewRun();
        var input = Lines(7, LogLevel.Error).Append(new LogLineInput(LogLevel.Info, "fine")).ToArray();
        var (_, appended) = LogBatch.Append(run, input, new LogLimits(), Scrubber.Patterns, Now);
        run = Run.Fold(run, appended);
        Assert.Equal(["line 3", "line 4", "line 5", "line 6", "line 7"], run.LastErrorLines);
    }

    [Fact]
    public void The_digest_changes_when_any_line_changes()
    {
        var a = new LogLine(1, Now, LogLevel.Info, "hello", false);
        Assert.NotEqual(LogBatch.Digest([a]), LogBatch.Digest([a with { Message = "hellO" }]));
        Assert.NotEqual(LogBatch.Digest([a]), LogBatch.Digest([a with { Level = LogLevel.Warn }]));
        Assert.Equal(LogBatch.Digest([a]), LogBatch.Digest([a with { }]));
    }
}

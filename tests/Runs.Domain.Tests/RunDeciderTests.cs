
namespace Runs.Domain.Tests;

public sealed class RunDeciderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 6, 13, 8, 0, 0, TimeSpan.Zero);
    private const string Id = "20260613-080000-0123456789abcdef";

    private static Run InState(RunStatus status)
    {
        var history = new List<object>
        {
            new Triggered(Id, "nightly", "api", null, null, null, null, null, [], new Dictionary<string, string>(), null, [], "tester", T0),
        };
        var at = T0.AddMinutes(1);
        switch (status)
        {
            case RunStatus.Running: history.Add(new Started(Id, null, at)); break;
            case RunStatus.Paused: history.AddRange([new Started(Id, null, at), new Paused(Id, "hold", at)]); break;
            case RunStatus.Succeeded: history.AddRange([new Started(Id, null, at), new Succeeded(Id, 0, at)]); break;
            case RunStatus.Failed: history.AddRange([new Started(Id, null, at), new Failed(Id, "boom", 1, at)]); break;
            case RunStatus.Canceled: history.Add(new Canceled(Id, null, at)); break;
            case RunStatus.Rejected: history.Add(new Rejected(Id, "no", at)); break;
        }
        var run = history.Aggregate((Run?)null, Run.Fold)!;
        Assert.Equal(status, run.Status);
        return run;
    }

    private static readonly Dictionary<string, Func<Run, Decision>> Commands = new()
    {
        ["start"] = r => RunDecider.Decide(r, new StartRun("w1"), T0.AddHours(1)),
        ["succeed"] = r => RunDecider.Decide(r, new SucceedRun(0), T0.AddHours(1)),
        ["fail"] = r => RunDecider.Decide(r, new FailRun("boom", 2), T0.AddHours(1)),
        ["cancel"] = r => RunDecider.Decide(r, new CancelRun("stop"), T0.AddHours(1)),
        ["pause"] = r => RunDecider.Decide(r, new PauseRun("hold"), T0.AddHours(1)),
        ["continue"] = r => RunDecider.Decide(r, new ContinueRun(), T0.AddHours(1)),
        ["reject"] = r => RunDecider.Decide(r, new RejectRun("no"), T0.AddHours(1)),
        ["telemetry"] = r => RunDecider.RecordTelemetry(r, new RecordTelemetry(new Dictionary<string, JsonElement> { ["rows"] = JsonSerializer.SerializeToElement(1) }, []), TelemetryLimits.Default, T0.AddHours(1)),
        ["report"] = r => RunDecider.Decide(r, new ReportResult("partial", 4), T0.AddHours(1)),
        ["log"] = r => RunDecider.AppendLog(r, [new LogLineInput(LogLevel.Info, "hello")], new LogLimits(), Scrubber.Patterns, T0.AddHours(1)),
    };

    // Expected outcome per (state, command): the status after, "same" for an accepted append that keeps
    // the status, "unchanged" for no events at all, "409" for a refusal.
    private static readonly Dictionary<RunStatus, Dictionary<string, string>> Table = new()
    {
        [RunStatus.Pending] = new() { ["start"] = "running", ["succeed"] = "409", ["fail"] = "409", ["cancel"] = "canceled", ["pause"] = "409", ["continue"] = "409", ["reject"] = "rejected", ["telemetry"] = "same", ["report"] = "same", ["log"] = "same" },
        [RunStatus.Running] = new() { ["start"] = "409", ["succeed"] = "succeeded", ["fail"] = "failed", ["cancel"] = "canceled", ["pause"] = "paused", ["continue"] = "409", ["reject"] = "409", ["telemetry"] = "same", ["report"] = "same", ["log"] = "same" },
        [RunStatus.Paused] = new() { ["start"] = "409", ["succeed"] = "409", ["fail"] = "failed", ["cancel"] = "canceled", ["pause"] = "409", ["continue"] = "running", ["reject"] = "409", ["telemetry"] = "same", ["report"] = "same", ["log"] = "same" },
        [RunStatus.Succeeded] = Terminal(),
        [RunStatus.Failed] = Terminal(),
        [RunStatus.Canceled] = Terminal(),
        [RunStatus.Rejected] = Terminal(),
    };

    private static Dictionary<string, string> Terminal() =>
        Commands.Keys.ToDictionary(c => c, c => c == "cancel" ? "unchanged" : "409");

    public static TheoryData<RunStatus, string> EveryStateAndCommand()
    {
        var data = new TheoryData<RunStatus, string>();
        foreach (var status in Enum.GetValues<RunStatus>())
        {
            foreach (var command in Commands.Keys)
            {
                data.Add(status, command);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryStateAndCommand))]
    public void Every_state_answers_every_command_as_the_state_machine_says(RunStatus status, string command)
    {
        var run = InState(status);
        var expected = Table[status][command];

        var decision = Commands[command](run);

        switch (expected)
        {
            case "409":
                var conflict = Assert.IsType<Decision.Conflict>(decision);
                Assert.Equal(status, conflict.Current);
                Assert.Contains(status.Name(), conflict.Detail);
                break;
            case "unchanged":
                Assert.Empty(Assert.IsType<Decision.Append>(decision).Events);
                break;
            default:
                var append = Assert.IsType<Decision.Append>(decision);
                Assert.NotEmpty(append.Events);
                var after = append.Events.Aggregate(run, Run.Fold);
                Assert.Equal(expected == "same" ? status : StatusNamed(expected), after.Status);
                break;
        }
    }

    [Fact]
    public void The_table_covers_every_state_and_command()
    {
        Assert.Equal(Enum.GetValues<RunStatus>().Length, Table.Count);
        Assert.All(Table.Values, row => Assert.Equal(Commands.Keys.Order(), row.Keys.Order()));
    }

    [Fact]
    public void A_caller_time_before_the_previous_event_is_invalid()
    {
        var run = InState(RunStatus.Running);
        var decision = RunDecider.Decide(run, new SucceedRun(0, T0), T0.AddHours(1));
        Assert.Equal("at", Assert.IsType<Decision.Invalid>(decision).Field);
    }

    [Fact]
    public void A_server_clock_behind_the_last_event_never_moves_history_backwards()
    {
        var run = InState(RunStatus.Running);
        var append = Assert.IsType<Decision.Append>(RunDecider.Decide(run, new SucceedRun(0), T0.AddDays(-1)));
        Assert.Equal(run.LastModified, ((Succeeded)append.Events[0]).At);
    }

    [Fact]
    public void Decide_all_is_all_or_nothing()
    {
        var run = InState(RunStatus.Running);
        var decision = RunDecider.DecideAll(run, [
            r => RunDecider.Decide(r, new ReportResult("x", 1), T0.AddHours(1)),
            r => RunDecider.Decide(r, new StartRun(null), T0.AddHours(1)),
        ]);
        Assert.IsType<Decision.Conflict>(decision);
    }

    [Fact]
    public void Duration_is_seconds_from_start_to_completion_rounded_to_two_decimals()
    {
        var run = InState(RunStatus.Pending);
        run = Run.Fold(run, new Started(Id, null, T0.AddSeconds(1)));
        Assert.Null(run.Duration);
        run = Run.Fold(run, new Succeeded(Id, 0, T0.AddSeconds(30.0449)));
        Assert.Equal(29.04, run.Duration);
    }

    private static RunStatus StatusNamed(string name) =>
        RunStatusNames.TryParse(name, out var status) ? status : throw new ArgumentException(name);
}

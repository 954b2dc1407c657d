
namespace Runs.Domain.Tests;

public sealed class TelemetryLimitsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 6, 13, 8, 0, 0, TimeSpan.Zero);
    private const string Id = "20260613-080000-0123456789abcdef";
    private static readonly TelemetryLimits Limits = new(MaxFieldsPerRun: 3, MaxSummaryKeys: 4, MaxSummaryBytes: 1024);

    private static Run Running() => new List<object>
    {
        new Triggered(Id, "nightly", "api", null, null, null, null, null, [], new Dictionary<string, string>(), null, [], "tester", T0),
        new Started(Id, null, T0),
    }.Aggregate((Run?)null, Run.Fold)!;

    private static IReadOnlyDictionary<string, JsonElement> Sample(params string[] fields)
    {
        var sample = fields.ToDictionary(f => f, _ => JsonSerializer.SerializeToElement(1.0));
        sample["at"] = JsonSerializer.SerializeToElement(T0);
        return sample;
    }

    private static Dictionary<string, JsonElement> Summary(params (string Key, object Value)[] entries) =>
        entries.ToDictionary(e => e.Key, e => JsonSerializer.SerializeToElement(e.Value));

    private static Decision Record(Run run, IReadOnlyDictionary<string, JsonElement>? summary = null, params IReadOnlyDictionary<string, JsonElement>[] samples) =>
        RunDecider.RecordTelemetry(run, new RecordTelemetry(summary, samples), Limits, T0.AddMinutes(1));

    private static Run After(Run run, Decision decision) => Assert.IsType<Decision.Append>(decision).Events.Aggregate(run, Run.Fold);

    [Fact]
    public void The_run_keeps_the_field_names_its_samples_used_in_the_order_they_came()
    {
        var run = After(Running(), Record(Running(), null, Sample("cpu"), Sample("mem", "cpu")));
        Assert.Equal(["cpu", "mem"], run.TelemetryFields);
    }

    [Fact]
    public void Samples_may_use_fields_up_to_the_cap_and_known_ones_ever_after()
    {
        var run = After(Running(), Record(Running(), null, Sample("a", "b")));
        run = After(run, Record(run, null, Sample("c")));
        run = After(run, Record(run, null, Sample("a", "b", "c"), Sample("c")));
        Assert.Equal(["a", "b", "c"], run.TelemetryFields);
    }

    [Fact]
    public void A_sample_naming_a_field_past_the_cap_is_refused_naming_the_cap_and_the_newcomers()
    {
        var run = After(Running(), Record(Running(), null, Sample("a", "b")));

        var refused = Assert.IsType<Decision.Invalid>(Record(run, null, Sample("a"), Sample("c", "d")));

        Assert.Equal("samples", refused.Field);
        Assert.Contains("at most 3 distinct fields", refused.Message);
        Assert.Contains("'c', 'd'", refused.Message);
    }

    [Fact]
    public void The_merged_summary_is_capped_in_keys_and_overwriting_a_key_adds_none()
    {
        var run = After(Running(), Record(Running(), Summary(("rows", 1), ("phase", "extract"), ("x", 1))));
        run = After(run, Record(run, Summary(("rows", 2), ("y", 1))));
        run = After(run, Record(run, Summary(("rows", 3), ("phase", "load"))));

        var refused = Assert.IsType<Decision.Invalid>(Record(run, Summary(("z", 1))));

        Assert.Equal("telemetry_summary", refused.Field);
        Assert.Contains("at most 4 keys", refused.Message);
        Assert.Contains("give it 5", refused.Message);
    }

    [Fact]
    public void The_merged_summary_is_capped_in_bytes()
    {
        var run = After(Running(), Record(Running(), Summary(("a", new string('x', 600)))));

        var refused = Assert.IsType<Decision.Invalid>(Record(run, Summary(("b", new string('y', 600)))));
        Assert.Equal("telemetry_summary", refused.Field);
        Assert.Contains("at most 1024 bytes", refused.Message);

        // Replacing the big value with a small one shrinks the summary: accepted.
        var smaller = After(run, Record(run, Summary(("a", "small"), ("b", new string('y', 600)))));
        Assert.Equal(2, smaller.TelemetrySummary.Count);
    }

    [Fact]
    public void A_finished_run_answers_409_before_any_limit()
    {
        var run = Run.Fold(Running(), new Canceled(Id, null, T0));
        Assert.IsType<Decision.Conflict>(Record(run, Summary(("a", 1), ("b", 1), ("c", 1), ("d", 1), ("e", 1))));
    }

    [Fact]
    public void Telemetry_is_not_decided_without_its_limits()
    {
        var command = new RecordTelemetry(Summary(("a", 1)), []);
        Assert.Throws<ArgumentException>(() => RunDecider.Decide(Running(), command, T0));
    }
}

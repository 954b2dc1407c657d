using System.Text.Json;
using Runs.Domain;

namespace Runs.Domain.Tests;

public sealed class DownsamplingTests
{
    private static readonly DateTimeOffset Start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static IReadOnlyDictionary<string, JsonElement> Sample(int second, double value) => new Dictionary<string, JsonElement>
    {
        ["at"] = JsonSerializer.SerializeToElement(Start.AddSeconds(second)),
        ["value"] = JsonSerializer.SerializeToElement(value),
    };

    [Fact]
    public void Under_the_cap_the_series_is_kept_whole_and_in_time_order()
    {
        var series = new TelemetrySeries().With([Sample(2, 1), Sample(1, 2)], 10);
        Assert.Equal([Start.AddSeconds(1), Start.AddSeconds(2)], series.Samples.Select(TelemetrySeries.TimeOf));
    }

    [Fact]
    public void Past_the_cap_it_spans_the_whole_run_and_keeps_a_spike()
    {
        var samples = Enumerable.Range(0, 1000).Select(i => Sample(i, i == 613 ? 500 : Math.Sin(i / 10.0))).ToList();

        var series = new TelemetrySeries().With(samples, 50);

        Assert.Equal(50, series.Samples.Count);
        Assert.Equal(Start, TelemetrySeries.TimeOf(series.Samples[0]));
        Assert.Equal(Start.AddSeconds(999), TelemetrySeries.TimeOf(series.Samples[^1]));
        Assert.Contains(series.Samples, s => s["value"].GetDouble() == 500);
    }

    [Fact]
    public void Downsampling_is_deterministic()
    {
        var samples = Enumerable.Range(0, 300).Select(i => Sample(i, i % 13)).ToList();
        var once = new TelemetrySeries().With(samples, 40).Samples.Select(TelemetrySeries.TimeOf);
        var again = new TelemetrySeries().With(samples, 40).Samples.Select(TelemetrySeries.TimeOf);
        Assert.Equal(once, again);
    }
}

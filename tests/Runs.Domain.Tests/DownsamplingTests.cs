
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

    [Theory]
    [InlineData(1, 3)]
    [InlineData(2, 37)]
    [InlineData(3, 250)]
    public void Sparse_series_with_many_fields_keep_what_the_dense_textbook_algorithm_keeps(int seed, int threshold)
    {
        var random = new Random(seed);
        var fields = Enumerable.Range(0, 12).Select(f => $"f{f}").ToArray();
        var samples = Enumerable.Range(0, 600).Select(i =>
        {
            IReadOnlyDictionary<string, JsonElement> sample = fields
                .Where(_ => random.NextDouble() < 0.4)
                .OrderBy(_ => random.Next())
                .ToDictionary(f => f, _ => JsonSerializer.SerializeToElement(Math.Round(random.NextDouble() * 100, 3)))
                .Append(KeyValuePair.Create("at", JsonSerializer.SerializeToElement(Start.AddSeconds(i))))
                .ToDictionary();
            return sample;
        }).ToList();

        var kept = Downsampling.LargestTriangleThreeBuckets(samples, threshold, TelemetrySeries.TimeOf);

        Assert.Equal(Dense(samples, threshold), kept.Select(s => samples.IndexOf(s)));
    }

    [Fact]
    public void Memory_grows_with_the_numbers_held_not_with_fields_times_samples()
    {
        // 3,000 samples of 50 fields each: once with 50 names in all, once with 150,000 names never repeated.
        // A fields x samples matrix of the second would be 3.6 GB.
        List<IReadOnlyDictionary<string, JsonElement>> Series(Func<int, int, string> name) =>
            [.. Enumerable.Range(0, 3000).Select(i => (IReadOnlyDictionary<string, JsonElement>)Enumerable.Range(0, 50)
                .ToDictionary(k => name(i, k), k => JsonSerializer.SerializeToElement((double)(i * k % 97)))
                .Append(KeyValuePair.Create("at", JsonSerializer.SerializeToElement(Start.AddSeconds(i))))
                .ToDictionary())];
        var shared = Series((_, k) => $"f{k}");
        var distinct = Series((i, k) => $"f{i}_{k}");

        var sharedBytes = Allocated(() => Downsampling.LargestTriangleThreeBuckets(shared, 2000, TelemetrySeries.TimeOf));
        var distinctBytes = Allocated(() => Downsampling.LargestTriangleThreeBuckets(distinct, 2000, TelemetrySeries.TimeOf));

        const int numbers = 3000 * 50;
        Assert.True(sharedBytes < numbers * 64, $"{sharedBytes} bytes for {numbers} numbers under 50 names");
        Assert.True(distinctBytes < numbers * 256, $"{distinctBytes} bytes for {numbers} numbers under {numbers} names");
    }

    private static long Allocated(Action action)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    /// <summary>The algorithm as published, over a dense fields x samples matrix (NaN where a sample lacks a field).</summary>
    private static List<int> Dense(IReadOnlyList<IReadOnlyDictionary<string, JsonElement>> samples, int threshold)
    {
        var fields = samples.SelectMany(s => s.Keys).Where(k => k != "at").Distinct().ToArray();
        var x = samples.Select(s => (double)TelemetrySeries.TimeOf(s).ToUnixTimeMilliseconds()).ToArray();
        var y = fields.Select(f => samples.Select(s => s.TryGetValue(f, out var v) ? v.GetDouble() : double.NaN).ToArray()).ToArray();
        var scale = y.Select(series =>
        {
            var present = series.Where(v => !double.IsNaN(v)).ToArray();
            var range = present.Max() - present.Min();
            return range > 0 ? 1 / range : 1;
        }).ToArray();
        double Average(double[] values, int from, int to)
        {
            var present = values[from..to].Where(v => !double.IsNaN(v)).ToArray();
            return present.Length == 0 ? double.NaN : present.Aggregate(0.0, (sum, v) => sum + v) / present.Length;
        }

        var kept = new List<int> { 0 };
        var bucketSize = (double)(samples.Count - 2) / (threshold - 2);
        var a = 0;
        for (var bucket = 0; bucket < threshold - 2; bucket++)
        {
            var start = (int)Math.Floor(bucket * bucketSize) + 1;
            var end = Math.Min((int)Math.Floor((bucket + 1) * bucketSize) + 1, samples.Count - 1);
            var nextEnd = Math.Min((int)Math.Floor((bucket + 2) * bucketSize) + 1, samples.Count);
            var averageX = Average(x, end, nextEnd);
            var best = start;
            var bestArea = -1.0;
            for (var candidate = start; candidate < end; candidate++)
            {
                var area = 0.0;
                for (var f = 0; f < fields.Length; f++)
                {
                    var averageY = Average(y[f], end, nextEnd);
                    var (ay, cy) = (y[f][a], y[f][candidate]);
                    if (!double.IsNaN(ay) && !double.IsNaN(cy) && !double.IsNaN(averageY))
                    {
                        area += Math.Abs((x[a] - averageX) * (cy - ay) - (x[a] - x[candidate]) * (averageY - ay)) * scale[f];
                    }
                }
                if (area > bestArea)
                {
                    (bestArea, best) = (area, candidate);
                }
            }
            kept.Add(best);
            a = best;
        }
        kept.Add(samples.Count - 1);
        return kept;
    }
}

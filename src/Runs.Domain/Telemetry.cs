using System.Text.Json;

namespace Runs.Domain;

/// <summary>A run's telemetry samples, oldest first, each <c>at</c> and numbers.</summary>
public sealed record TelemetrySeries
{
    public string Id { get; init; } = "";
    public IReadOnlyList<IReadOnlyDictionary<string, JsonElement>> Samples { get; init; } = [];

    /// <summary>Adds samples in time order; past <paramref name="cap"/> the whole series is downsampled.</summary>
    public TelemetrySeries With(IEnumerable<IReadOnlyDictionary<string, JsonElement>> samples, int cap)
    {
        var all = Samples.Concat(samples).OrderBy(TimeOf).ToList();
        return this with { Samples = all.Count > cap ? Downsampling.LargestTriangleThreeBuckets(all, cap, TimeOf) : all };
    }

    public static DateTimeOffset TimeOf(IReadOnlyDictionary<string, JsonElement> sample) =>
        sample.TryGetValue("at", out var at) && at.ValueKind == JsonValueKind.String && at.TryGetDateTimeOffset(out var time)
            ? time
            : DateTimeOffset.MinValue;
}

public static class Downsampling
{
    /// <summary>
    /// Largest-Triangle-Three-Buckets (Steinarsson, 2013): keeps the first and last sample and, from each
    /// bucket between, the sample forming the largest triangle with its neighbours. With several numeric
    /// fields the triangle areas of all fields are summed (each normalised by its range), so a spike in any
    /// series survives.
    /// </summary>
    public static List<IReadOnlyDictionary<string, JsonElement>> LargestTriangleThreeBuckets(
        IReadOnlyList<IReadOnlyDictionary<string, JsonElement>> samples, int threshold,
        Func<IReadOnlyDictionary<string, JsonElement>, DateTimeOffset> timeOf)
    {
        if (threshold >= samples.Count || threshold < 3)
        {
            return [.. samples];
        }

        var fields = samples.SelectMany(s => s.Where(f => f.Value.ValueKind == JsonValueKind.Number).Select(f => f.Key)).Distinct().ToArray();
        var x = samples.Select(s => (double)timeOf(s).ToUnixTimeMilliseconds()).ToArray();
        var y = fields.Select(f => samples.Select(s => s.TryGetValue(f, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN).ToArray()).ToArray();
        var scale = y.Select(series =>
        {
            var present = series.Where(v => !double.IsNaN(v)).DefaultIfEmpty(0).ToArray();
            var range = present.Max() - present.Min();
            return range > 0 ? 1 / range : 1;
        }).ToArray();

        var kept = new List<IReadOnlyDictionary<string, JsonElement>>(threshold) { samples[0] };
        var bucketSize = (double)(samples.Count - 2) / (threshold - 2);
        var a = 0;
        for (var bucket = 0; bucket < threshold - 2; bucket++)
        {
            var start = (int)Math.Floor(bucket * bucketSize) + 1;
            var end = Math.Min((int)Math.Floor((bucket + 1) * bucketSize) + 1, samples.Count - 1);
            var nextStart = end;
            var nextEnd = Math.Min((int)Math.Floor((bucket + 2) * bucketSize) + 1, samples.Count);
            var averageX = Average(x, nextStart, nextEnd);

            var best = start;
            var bestArea = -1.0;
            for (var candidate = start; candidate < end; candidate++)
            {
                var area = 0.0;
                for (var f = 0; f < fields.Length; f++)
                {
                    var averageY = Average(y[f], nextStart, nextEnd);
                    var ay = y[f][a];
                    var cy = y[f][candidate];
                    if (double.IsNaN(ay) || double.IsNaN(cy) || double.IsNaN(averageY))
                    {
                        continue;
                    }
                    area += Math.Abs((x[a] - averageX) * (cy - ay) - (x[a] - x[candidate]) * (averageY - ay)) * scale[f];
                }
                if (area > bestArea)
                {
                    bestArea = area;
                    best = candidate;
                }
            }
            kept.Add(samples[best]);
            a = best;
        }
        kept.Add(samples[^1]);
        return kept;
    }

    private static double Average(double[] values, int from, int to)
    {
        double sum = 0;
        var count = 0;
        for (var i = from; i < to; i++)
        {
            if (!double.IsNaN(values[i]))
            {
                sum += values[i];
                count++;
            }
        }
        return count == 0 ? double.NaN : sum / count;
    }
}

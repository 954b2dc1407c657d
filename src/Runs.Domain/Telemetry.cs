
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

/// <summary>
/// What a run's telemetry may grow to, checked against the run as the write would leave it: a client can
/// patch the summary key by key and add fields sample by sample, so per-request caps alone bound nothing.
/// </summary>
public sealed record TelemetryLimits(int MaxFieldsPerRun, int MaxSummaryKeys, long MaxSummaryBytes)
{
    public static readonly TelemetryLimits Default = new(50, 100, 64 * 1024);

    /// <summary>Why the run cannot take this telemetry, or null when it can.</summary>
    public Decision.Invalid? Refusal(Run run, RecordTelemetry command)
    {
        var fields = Run.FieldsAfter(run.TelemetryFields, command.Samples);
        if (fields.Count > MaxFieldsPerRun)
        {
            var added = fields.Skip(run.TelemetryFields.Count).ToList();
            return new Decision.Invalid("samples",
                $"A run's telemetry samples may use at most {MaxFieldsPerRun} distinct fields; this run has {run.TelemetryFields.Count}, "
                + $"and these samples would add {added.Count} more ({string.Join(", ", added.Take(5).Select(f => $"'{f}'"))}{(added.Count > 5 ? ", …" : "")}).");
        }
        if (command.Summary is { } patch)
        {
            var merged = Run.MergeSummary(run.TelemetrySummary, patch);
            if (merged.Count > MaxSummaryKeys)
            {
                return new Decision.Invalid("telemetry_summary",
                    $"A run's telemetry summary may hold at most {MaxSummaryKeys} keys; merging this one into the run's would give it {merged.Count}.");
            }
            if (StoredJson.Size(merged) is var bytes && bytes > MaxSummaryBytes)
            {
                return new Decision.Invalid("telemetry_summary",
                    $"A run's telemetry summary may hold at most {MaxSummaryBytes} bytes of JSON; merging this one into the run's would make it {bytes}.");
            }
        }
        return null;
    }
}

public static class Downsampling
{
    /// <summary>
    /// Largest-Triangle-Three-Buckets (Steinarsson, 2013): keeps the first and last sample and, from each
    /// bucket between, the sample forming the largest triangle with its neighbours. With several numeric
    /// fields the triangle areas of all fields are summed (each normalised by its range), so a spike in any
    /// series survives.
    /// </summary>
    /// <remarks>
    /// Work and memory grow with the numbers the samples hold, never with fields × samples: each sample's
    /// numbers are read once into flat arrays, and each bucket's averages are computed once, for the fields
    /// that bucket has.
    /// </remarks>
    public static List<IReadOnlyDictionary<string, JsonElement>> LargestTriangleThreeBuckets(
        IReadOnlyList<IReadOnlyDictionary<string, JsonElement>> samples, int threshold,
        Func<IReadOnlyDictionary<string, JsonElement>, DateTimeOffset> timeOf)
    {
        if (threshold >= samples.Count || threshold < 3)
        {
            return [.. samples];
        }

        var numbers = Numbers.Of(samples);
        var x = samples.Select(s => (double)timeOf(s).ToUnixTimeMilliseconds()).ToArray();
        var fieldCount = numbers.Scale.Length;
        var previous = new double[fieldCount];
        Array.Fill(previous, double.NaN);
        var sum = new double[fieldCount];
        var count = new int[fieldCount];

        var kept = new List<IReadOnlyDictionary<string, JsonElement>>(threshold) { samples[0] };
        var bucketSize = (double)(samples.Count - 2) / (threshold - 2);
        var a = 0;
        numbers.Set(previous, a);
        for (var bucket = 0; bucket < threshold - 2; bucket++)
        {
            var start = (int)Math.Floor(bucket * bucketSize) + 1;
            var end = Math.Min((int)Math.Floor((bucket + 1) * bucketSize) + 1, samples.Count - 1);
            var nextStart = end;
            var nextEnd = Math.Min((int)Math.Floor((bucket + 2) * bucketSize) + 1, samples.Count);
            var averageX = Average(x, nextStart, nextEnd);
            numbers.Accumulate(sum, count, nextStart, nextEnd);

            var best = start;
            var bestArea = -1.0;
            for (var candidate = start; candidate < end; candidate++)
            {
                var area = 0.0;
                for (var i = numbers.Start[candidate]; i < numbers.Start[candidate + 1]; i++)
                {
                    var f = numbers.Field[i];
                    var ay = previous[f];
                    var cy = numbers.Value[i];
                    if (double.IsNaN(ay) || count[f] == 0)
                    {
                        continue;
                    }
                    var averageY = sum[f] / count[f];
                    area += Math.Abs((x[a] - averageX) * (cy - ay) - (x[a] - x[candidate]) * (averageY - ay)) * numbers.Scale[f];
                }
                if (area > bestArea)
                {
                    bestArea = area;
                    best = candidate;
                }
            }
            numbers.Clear(sum, count, nextStart, nextEnd);
            kept.Add(samples[best]);
            numbers.Unset(previous, a);
            a = best;
            numbers.Set(previous, a);
        }
        kept.Add(samples[^1]);
        return kept;
    }

    private static double Average(double[] values, int from, int to)
    {
        double sum = 0;
        for (var i = from; i < to; i++)
        {
            sum += values[i];
        }
        return to > from ? sum / (to - from) : double.NaN;
    }

    /// <summary>
    /// Every sample's numbers, flat: sample <c>s</c> holds entries <c>Start[s]</c> to <c>Start[s+1]</c>, each a
    /// field index (fields numbered in the order they first appear, entries of a sample in that order) and
    /// its value; <c>Scale</c> is one over each field's range (1 for a flat field).
    /// </summary>
    private sealed record Numbers(int[] Start, int[] Field, double[] Value, double[] Scale)
    {
        public static Numbers Of(IReadOnlyList<IReadOnlyDictionary<string, JsonElement>> samples)
        {
            var start = new int[samples.Count + 1];
            for (var s = 0; s < samples.Count; s++)
            {
                start[s + 1] = start[s] + samples[s].Count(f => f.Value.ValueKind == JsonValueKind.Number);
            }
            var field = new int[start[^1]];
            var value = new double[start[^1]];
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            var min = new List<double>();
            var max = new List<double>();
            for (var s = 0; s < samples.Count; s++)
            {
                var i = start[s];
                foreach (var (key, number) in samples[s].Where(f => f.Value.ValueKind == JsonValueKind.Number))
                {
                    if (!index.TryGetValue(key, out var f))
                    {
                        index.Add(key, f = index.Count);
                        min.Add(double.PositiveInfinity);
                        max.Add(double.NegativeInfinity);
                    }
                    var v = number.GetDouble();
                    min[f] = Math.Min(min[f], v);
                    max[f] = Math.Max(max[f], v);
                    field[i] = f;
                    value[i++] = v;
                }
                // In field order, so areas are summed in the same order for every candidate.
                Array.Sort(field, value, start[s], start[s + 1] - start[s]);
            }
            var scale = min.Zip(max, (lo, hi) => hi - lo > 0 ? 1 / (hi - lo) : 1).ToArray();
            return new Numbers(start, field, value, scale);
        }

        public void Set(double[] values, int sample)
        {
            for (var i = Start[sample]; i < Start[sample + 1]; i++)
            {
                values[Field[i]] = Value[i];
            }
        }

        public void Unset(double[] values, int sample)
        {
            for (var i = Start[sample]; i < Start[sample + 1]; i++)
            {
                values[Field[i]] = double.NaN;
            }
        }

        public void Accumulate(double[] sum, int[] count, int from, int to)
        {
            for (var i = Start[from]; i < Start[to]; i++)
            {
                sum[Field[i]] += Value[i];
                count[Field[i]]++;
            }
        }

        public void Clear(double[] sum, int[] count, int from, int to)
        {
            for (var i = Start[from]; i < Start[to]; i++)
            {
                sum[Field[i]] = 0;
                count[Field[i]] = 0;
            }
        }
    }
}

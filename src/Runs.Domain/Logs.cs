
namespace Runs.Domain;

public enum LogLevel
{
    Debug,
    Info,
    Warn,
    Error,
}

public static class LogLevels
{
    public static string Name(this LogLevel level) => level switch
    {
        LogLevel.Debug => "debug",
        LogLevel.Info => "info",
        LogLevel.Warn => "warn",
        LogLevel.Error => "error",
        _ => throw new ArgumentOutOfRangeException(nameof(level)),
    };

    public static bool TryParse(string? text, out LogLevel level)
    {
        foreach (var candidate in Enum.GetValues<LogLevel>())
        {
            if (string.Equals(candidate.Name(), text, StringComparison.OrdinalIgnoreCase))
            {
                level = candidate;
                return true;
            }
        }
        level = default;
        return false;
    }
}

/// <summary>A line as a runner sends it.</summary>
public sealed record LogLineInput(LogLevel Level, string Message, DateTimeOffset? At = null, bool Internal = false);

/// <summary>A stored line: its id is per run, strictly increasing and gap-free.</summary>
public sealed record LogLine(long Id, DateTimeOffset At, LogLevel Level, string Message, bool Internal);

public sealed record LogLimits(long MaxLinesPerRun = 100_000, int MaxLineLength = 16 * 1024);

/// <summary>
/// Turns a batch of incoming lines into stored lines and one <see cref="LogAppended"/>: scrubs and cuts
/// them (<see cref="Scrubber.ScrubLines"/>), numbers them after the run's last line, and applies the
/// run's line cap.
/// </summary>
public static class LogBatch
{
    public const string TruncationMarker = " …[line truncated]";

    public static (IReadOnlyList<LogLine> Lines, LogAppended Event) Append(
        Run run, IReadOnlyList<LogLineInput> input, LogLimits limits, Scrubber scrubber, DateTimeOffset now)
    {
        var room = (int)Math.Clamp(limits.MaxLinesPerRun - run.LogLines, 0, int.MaxValue);
        var accepted = input.Take(room).ToList();
        var dropped = input.Count - accepted.Count;

        var messages = scrubber.ScrubLines([.. accepted.Select(l => l.Message)], limits.MaxLineLength, TruncationMarker);
        var lines = new List<LogLine>(accepted.Count + 1);
        var id = run.LastLineId;
        for (var i = 0; i < accepted.Count; i++)
        {
            lines.Add(new LogLine(++id, Microseconds(accepted[i].At ?? now), accepted[i].Level, messages[i], accepted[i].Internal));
        }
        if (dropped > 0 && run.LogLinesDropped == 0)
        {
            lines.Add(new LogLine(++id, Microseconds(now), LogLevel.Warn,
                $"[runs] the log cap of {limits.MaxLinesPerRun} lines was reached; later lines are dropped and counted in log_lines_dropped.",
                false));
        }

        var errors = lines.Where(l => l.Level == LogLevel.Error && !l.Internal).TakeLast(Run.LastErrorLinesKept).Select(l => l.Message);
        var appended = new LogAppended(
            run.Id,
            lines.Count == 0 ? null : lines[0].Id,
            lines.Count == 0 ? null : lines[^1].Id,
            accepted.Count,
            dropped,
            [.. errors],
            Digest(lines),
            now);
        return (lines, appended);
    }

    /// <summary>SHA-256 over every stored field of every line, so the event proves what was written.</summary>
    public static string Digest(IEnumerable<LogLine> lines)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var line in lines)
        {
            AppendToDigest(hash, line);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>One line's part of <see cref="Digest"/>: id, time, level, internal flag and text, separated by U+001F, ended by U+001E.</summary>
    public static void AppendToDigest(IncrementalHash hash, LogLine line) =>
        hash.AppendData(Encoding.UTF8.GetBytes(
            $"{line.Id}\u001f{line.At.UtcDateTime:O}\u001f{line.Level.Name()}\u001f{(line.Internal ? 1 : 0)}\u001f{line.Message}\u001e"));

    /// <summary>PostgreSQL keeps times to the microsecond; a digest over finer ticks could never be checked against what it stored.</summary>
    public static DateTimeOffset Microseconds(DateTimeOffset time) => time.AddTicks(-(time.UtcTicks % 10));
}


namespace Runs.Domain;

/// <summary>
/// A run as its events left it: the write model the decider reads and the document clients read.
/// <see cref="Evolve"/> is a pure fold, so replaying a stream always gives the same run.
/// </summary>
public sealed record Run
{
    public string Id { get; init; } = "";
    public string Job { get; init; } = "";
    public RunStatus Status { get; init; }
    /// <summary>
    /// <see cref="Status"/> by its name, for the status column: Marten fills a column duplicated from an enum
    /// with the enum's C# name, and the column must hold the name the document does.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string StatusName => Status.Name();
    public long Version { get; set; }
    public string Trigger { get; init; } = "api";
    public string? Source { get; init; }
    public string CreatedBy { get; init; } = "";
    public DateTimeOffset CreatedOn { get; init; }
    public DateTimeOffset? StartedOn { get; init; }
    public DateTimeOffset? CompletedOn { get; init; }
    public DateTimeOffset LastModified { get; init; }
    public string? Runner { get; init; }
    public JsonElement? Input { get; init; }
    public IReadOnlyList<string>? Argv { get; init; }
    public string? Command { get; init; }
    public string? Entrypoint { get; init; }
    public IReadOnlyList<EnvVar> Env { get; init; } = [];
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public string? PreviousRun { get; init; }
    public IReadOnlyList<StoredFile> InputFiles { get; init; } = [];
    public int? ExitCode { get; init; }
    public string? ErrorSummary { get; init; }
    public string? PausedReason { get; init; }
    public string? CancelReason { get; init; }
    public string? RejectReason { get; init; }
    public IReadOnlyDictionary<string, JsonElement> TelemetrySummary { get; init; } = new Dictionary<string, JsonElement>();
    /// <summary>Every field name the run's telemetry samples have used, in the order they first came (capped, see <see cref="TelemetryLimits"/>).</summary>
    public IReadOnlyList<string> TelemetryFields { get; init; } = [];
    /// <summary>Lines counted against the cap (the cap's marker line is not).</summary>
    public long LogLines { get; init; }
    public long LastLineId { get; init; }
    public long LogLinesDropped { get; init; }
    public IReadOnlyList<string> LastErrorLines { get; init; } = [];
    public bool HasOutput => OutputFiles.Count > 0;
    public IReadOnlyList<StoredFile> OutputFiles { get; init; } = [];
    public DateTimeOffset? ExpiredOn { get; init; }
    public string? RetentionPolicy { get; init; }

    public const int LastErrorLinesKept = 5;

    /// <summary>Seconds from start to completion, rounded to two decimals; null until both are known.</summary>
    public double? Duration => StartedOn is { } started && CompletedOn is { } completed
        ? Math.Round((completed - started).TotalSeconds, 2)
        : null;

    public static Run From(Triggered e) => new()
    {
        Id = e.RunId,
        Job = e.Job,
        Status = RunStatus.Pending,
        Trigger = e.Trigger,
        Source = e.Source,
        CreatedBy = e.CreatedBy,
        CreatedOn = e.At,
        LastModified = e.At,
        Input = e.Input,
        Argv = e.Argv,
        Command = e.Command,
        Entrypoint = e.Entrypoint,
        Env = e.Env,
        Labels = e.Labels,
        PreviousRun = e.PreviousRun,
        InputFiles = e.InputFiles,
    };

    /// <summary>Applies one event; the run's version counts the events applied, as the stream's does.</summary>
    public static Run Fold(Run? run, object @event)
    {
        var next = Next(run, @event);
        next.Version = (run?.Version ?? 0) + 1;
        return next;
    }

    private static Run Next(Run? run, object @event) => (run, @event) switch
    {
        (_, Triggered e) => From(e),
        (null, _) => throw new InvalidOperationException($"A run's stream must begin with {nameof(Triggered)}."),
        ({ } r, Started e) => r with { Status = RunStatus.Running, StartedOn = e.At, Runner = e.Runner, LastModified = e.At },
        ({ } r, LogAppended e) => r with
        {
            LogLines = r.LogLines + e.Appended,
            LastLineId = e.LastLineId ?? r.LastLineId,
            LogLinesDropped = r.LogLinesDropped + e.Dropped,
            LastErrorLines = e.ErrorLines.Count == 0 ? r.LastErrorLines : [.. r.LastErrorLines.Concat(e.ErrorLines).TakeLast(LastErrorLinesKept)],
            LastModified = e.At,
        },
        ({ } r, TelemetrySampled e) => r with
        {
            TelemetrySummary = e.Summary is null ? r.TelemetrySummary : MergeSummary(r.TelemetrySummary, e.Summary),
            TelemetryFields = FieldsAfter(r.TelemetryFields, e.Samples),
            LastModified = e.At,
        },
        ({ } r, ResultReported e) => r with { ErrorSummary = e.ErrorSummary ?? r.ErrorSummary, ExitCode = e.ExitCode ?? r.ExitCode, LastModified = e.At },
        ({ } r, Paused e) => r with { Status = RunStatus.Paused, PausedReason = e.Reason, LastModified = e.At },
        ({ } r, Resumed e) => r with { Status = RunStatus.Running, PausedReason = null, LastModified = e.At },
        ({ } r, Succeeded e) => r with { Status = RunStatus.Succeeded, ExitCode = e.ExitCode ?? r.ExitCode, CompletedOn = e.At, LastModified = e.At },
        ({ } r, Failed e) => r with { Status = RunStatus.Failed, ErrorSummary = e.ErrorSummary, ExitCode = e.ExitCode ?? r.ExitCode, CompletedOn = e.At, PausedReason = null, LastModified = e.At },
        ({ } r, Canceled e) => r with { Status = RunStatus.Canceled, CancelReason = e.Reason, CompletedOn = e.At, PausedReason = null, LastModified = e.At },
        ({ } r, Rejected e) => r with { Status = RunStatus.Rejected, RejectReason = e.Reason, CompletedOn = e.At, LastModified = e.At },
        ({ } r, OutputAttached e) => r with { OutputFiles = e.Files, LastModified = e.At },
        // The log text the run kept (its last error lines) goes with the log.
        ({ } r, RetentionExpired e) => r with { ExpiredOn = e.ExpiredOn, RetentionPolicy = e.Policy, LastErrorLines = [], LastModified = e.At },
        ({ } r, _) => r,
    };

    /// <summary>A shallow merge: each key of the patch replaces the summary's value whole.</summary>
    public static Dictionary<string, JsonElement> MergeSummary(
        IReadOnlyDictionary<string, JsonElement> current, IReadOnlyDictionary<string, JsonElement> patch)
    {
        var merged = new Dictionary<string, JsonElement>(current);
        foreach (var (key, value) in patch)
        {
            merged[key] = value;
        }
        return merged;
    }

    /// <summary>The field names known so far followed by those the samples use for the first time (<c>at</c> is not a field).</summary>
    public static IReadOnlyList<string> FieldsAfter(
        IReadOnlyList<string> known, IEnumerable<IReadOnlyDictionary<string, JsonElement>> samples)
    {
        var seen = new HashSet<string>(known, StringComparer.Ordinal);
        List<string>? fields = null;
        foreach (var key in samples.SelectMany(s => s.Keys).Where(k => k != "at" && seen.Add(k)))
        {
            (fields ??= [.. known]).Add(key);
        }
        return fields ?? known;
    }
}

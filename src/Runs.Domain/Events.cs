
namespace Runs.Domain;

// Events are facts in the past tense. Each carries its run id and the time it took effect;
// new fields are added as optional, meanings never change.

/// <summary>An environment variable handed to the run. A secret's value is cipher text (see <see cref="SecretCipher"/>).</summary>
public sealed record EnvVar(string Key, string Value, bool Secret);

/// <summary>A stored file (an input file of a trigger, or an output).</summary>
public sealed record StoredFile(string Name, long Size, string ContentType, string Sha256);

public sealed record Triggered(
    string RunId,
    string Job,
    string Trigger,
    string? Source,
    JsonElement? Input,
    IReadOnlyList<string>? Argv,
    string? Command,
    string? Entrypoint,
    IReadOnlyList<EnvVar> Env,
    IReadOnlyDictionary<string, string> Labels,
    string? PreviousRun,
    IReadOnlyList<StoredFile> InputFiles,
    string CreatedBy,
    DateTimeOffset At);

public sealed record Started(string RunId, string? Runner, DateTimeOffset At);

/// <summary>
/// A batch of log lines. The text lives in the log line table; the event keeps the id range,
/// the error lines a reader of the run needs, and a SHA-256 digest proving what was written.
/// </summary>
public sealed record LogAppended(
    string RunId,
    long? FirstLineId,
    long? LastLineId,
    int Appended,
    int Dropped,
    IReadOnlyList<string> ErrorLines,
    string Sha256,
    DateTimeOffset At);

public sealed record TelemetrySampled(
    string RunId,
    IReadOnlyDictionary<string, JsonElement>? Summary,
    IReadOnlyList<IReadOnlyDictionary<string, JsonElement>> Samples,
    DateTimeOffset At);

/// <summary>The runner reported an error summary and/or exit code before (or without) finishing.</summary>
public sealed record ResultReported(string RunId, string? ErrorSummary, int? ExitCode, DateTimeOffset At);

public sealed record Paused(string RunId, string Reason, DateTimeOffset At);

public sealed record Resumed(string RunId, DateTimeOffset At);

public sealed record Succeeded(string RunId, int? ExitCode, DateTimeOffset At);

public sealed record Failed(string RunId, string ErrorSummary, int? ExitCode, DateTimeOffset At);

public sealed record Canceled(string RunId, string? Reason, DateTimeOffset At);

public sealed record Rejected(string RunId, string Reason, DateTimeOffset At);

/// <summary>The run's output was (re)placed: these files, all of them, replace any earlier output.</summary>
public sealed record OutputAttached(string RunId, IReadOnlyList<StoredFile> Files, DateTimeOffset At);

/// <summary>
/// The run's logs, input and output files were purged under a retention policy. The ledger itself
/// stays: every event keeps its type, time, metadata and digests.
/// </summary>
public sealed record RetentionExpired(string RunId, string Policy, DateTimeOffset ExpiredOn, DateTimeOffset At);

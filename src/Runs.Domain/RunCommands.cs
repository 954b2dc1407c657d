
namespace Runs.Domain;

/// <summary>What a runner or client asks of a run. <c>At</c> is the caller's time, if it gave one.</summary>
public abstract record RunCommand(DateTimeOffset? At)
{
    /// <summary>The action's name as clients know it (the endpoint's last path segment).</summary>
    public abstract string Action { get; }
}

public sealed record StartRun(string? Runner, DateTimeOffset? At = null) : RunCommand(At)
{
    public override string Action => "start";
}

public sealed record SucceedRun(int? ExitCode, DateTimeOffset? At = null) : RunCommand(At)
{
    public override string Action => "succeed";
}

public sealed record FailRun(string ErrorSummary, int? ExitCode, DateTimeOffset? At = null) : RunCommand(At)
{
    public override string Action => "fail";
}

public sealed record CancelRun(string? Reason, DateTimeOffset? At = null) : RunCommand(At)
{
    public override string Action => "cancel";
}

public sealed record PauseRun(string Reason, DateTimeOffset? At = null) : RunCommand(At)
{
    public override string Action => "pause";
}

public sealed record ContinueRun(DateTimeOffset? At = null) : RunCommand(At)
{
    public override string Action => "continue";
}

public sealed record RejectRun(string Reason, DateTimeOffset? At = null) : RunCommand(At)
{
    public override string Action => "reject";
}

/// <summary>
/// Telemetry summary keys and/or samples; accepted while the run is not terminal and stays within its
/// <see cref="TelemetryLimits"/> (decided by <see cref="RunDecider.RecordTelemetry"/>).
/// </summary>
public sealed record RecordTelemetry(
    IReadOnlyDictionary<string, JsonElement>? Summary,
    IReadOnlyList<IReadOnlyDictionary<string, JsonElement>> Samples,
    DateTimeOffset? At = null) : RunCommand(At)
{
    public override string Action => "telemetry";
}

/// <summary>An error summary and/or exit code reported ahead of (or without) the final status.</summary>
public sealed record ReportResult(string? ErrorSummary, int? ExitCode, DateTimeOffset? At = null) : RunCommand(At)
{
    public override string Action => "report";
}

/// <summary>
/// <c>PATCH</c>'s several changes in one: log and telemetry appends, then the result
/// (<c>error_summary</c>/<c>exit_code</c>), then the status; all at <paramref name="FinishedAt"/> when given.
/// The sample comes stamped with its time.
/// </summary>
public sealed record PatchRun(
    string? Status,
    LogLineInput? AppendLog,
    IReadOnlyDictionary<string, System.Text.Json.JsonElement>? TelemetrySummary,
    IReadOnlyDictionary<string, System.Text.Json.JsonElement>? TelemetrySample,
    string? ErrorSummary,
    int? ExitCode,
    DateTimeOffset? FinishedAt)
{
    /// <summary>The statuses a PATCH may ask for.</summary>
    public static readonly string[] Statuses = ["running", "succeeded", "failed", "canceled"];
}

/// <summary>
/// A new run, as the client asked for it: env values in the clear (secret ones are sealed by the decision),
/// input files already stored.
/// </summary>
public sealed record Trigger(
    string Job,
    string? Kind,
    string? Source,
    System.Text.Json.JsonElement? Input,
    IReadOnlyList<string>? Argv,
    string? Command,
    string? Entrypoint,
    IReadOnlyList<EnvVar> Env,
    IReadOnlyDictionary<string, string>? Labels,
    string? PreviousRun,
    IReadOnlyList<StoredFile> InputFiles);


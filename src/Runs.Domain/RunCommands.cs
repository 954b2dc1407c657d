using System.Text.Json;

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

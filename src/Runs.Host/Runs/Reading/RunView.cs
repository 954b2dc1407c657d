
namespace Runs.Host.Runs.Reading;

public sealed record EnvView(string Key, string Value, bool Secret);

public sealed record RunLinks(string Self, string Status, string Stats, string Log, string LogStream, string Telemetry, string Output, string Events, string State);

/// <summary>A run as clients read it (<c>GET .../runs/{run}</c>): every summary field and the details.</summary>
public sealed record RunView(
    string Id,
    string Name,
    string Shortname,
    string Uri,
    string Job,
    string Status,
    string Trigger,
    string? Source,
    string CreatedBy,
    DateTimeOffset CreatedOn,
    DateTimeOffset? StartedOn,
    DateTimeOffset? CompletedOn,
    DateTimeOffset LastModified,
    double? Duration,
    int? ExitCode,
    bool HasOutput,
    IReadOnlyList<StoredFile> OutputFiles,
    string? Runner,
    IReadOnlyList<string>? Argv,
    string? Command,
    string? Entrypoint,
    IReadOnlyList<EnvView> Env,
    IReadOnlyDictionary<string, string> Labels,
    JsonElement? Input,
    IReadOnlyList<StoredFile> InputFiles,
    string? ErrorSummary,
    IReadOnlyList<string> LastErrorLines,
    IReadOnlyDictionary<string, JsonElement> TelemetrySummary,
    long LogLines,
    long LogLinesDropped,
    string? PreviousRun,
    string? PausedReason,
    string? CancelReason,
    string? RejectReason,
    long Version,
    RetentionView Retention,
    RunLinks Links)
{
    public static string UriOf(string job, string id) => $"/v1/jobs/{job}/runs/{id}";

    /// <summary>The last eight hex digits: short enough to say aloud, unique enough within a job's day.</summary>
    public static string ShortnameOf(string id) => id[^8..];

    public static RunView From(Run run, RetentionPolicy retention)
    {
        var uri = UriOf(run.Job, run.Id);
        return new RunView(
            Id: run.Id,
            Name: run.Id,
            Shortname: ShortnameOf(run.Id),
            Uri: uri,
            Job: run.Job,
            Status: run.Status.Name(),
            Trigger: run.Trigger,
            Source: run.Source,
            CreatedBy: run.CreatedBy,
            CreatedOn: run.CreatedOn,
            StartedOn: run.StartedOn,
            CompletedOn: run.CompletedOn,
            LastModified: run.LastModified,
            Duration: run.Duration,
            ExitCode: run.ExitCode,
            HasOutput: run.HasOutput,
            OutputFiles: run.OutputFiles,
            Runner: run.Runner,
            Argv: run.Argv,
            Command: run.Command,
            Entrypoint: run.Entrypoint,
            Env: [.. run.Env.Select(e => new EnvView(e.Key, e.Secret ? RunSecrets.Mask : e.Value, e.Secret))],
            Labels: run.Labels,
            Input: run.Input,
            InputFiles: run.InputFiles,
            ErrorSummary: run.ErrorSummary,
            LastErrorLines: run.LastErrorLines,
            TelemetrySummary: run.TelemetrySummary,
            LogLines: run.LogLines,
            LogLinesDropped: run.LogLinesDropped,
            PreviousRun: run.PreviousRun,
            PausedReason: run.PausedReason,
            CancelReason: run.CancelReason,
            RejectReason: run.RejectReason,
            Version: run.Version,
            Retention: retention.ViewOf(run),
            Links: new RunLinks(
                Self: uri,
                Status: $"{uri}/status",
                Stats: $"{uri}/stats",
                Log: $"{uri}/log",
                LogStream: $"{uri}/log/stream",
                Telemetry: $"{uri}/telemetry",
                Output: $"{uri}/output",
                Events: $"{uri}/events",
                State: $"{uri}/state"));
    }
}

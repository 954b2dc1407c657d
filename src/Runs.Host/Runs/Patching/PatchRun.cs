
namespace Runs.Host.Runs.Patching;

public sealed record LogEntry(string? Level = null, string? Message = null);

/// <summary>
/// The body of <c>PATCH .../runs/{run}</c>: any of these, applied in one transaction in this order:
/// log and telemetry appends, then <c>error_summary</c>/<c>exit_code</c>, then the <c>status</c> change.
/// </summary>
public sealed record PatchRunRequest(
    string? Status = null,
    LogEntry? AppendLog = null,
    Dictionary<string, JsonElement>? TelemetrySummary = null,
    Dictionary<string, JsonElement>? AppendTelemetrySample = null,
    string? ErrorSummary = null,
    int? ExitCode = null,
    DateTimeOffset? FinishedAt = null)
{
    public sealed class Validator : AbstractValidator<PatchRunRequest>
    {
        public Validator()
        {
            RuleFor(x => x.Status).Must(s => s is null || PatchRun.Statuses.Contains(s))
                .WithMessage($"'status' must be one of {string.Join(", ", PatchRun.Statuses)}.");
            RuleFor(x => x.AppendLog!.Level).Must(l => l is null || LogLevels.TryParse(l, out _))
                .When(x => x.AppendLog is not null)
                .WithMessage("'append_log.level' must be debug, info, warn or error.");
            RuleFor(x => x.AppendLog!.Message).NotNull().When(x => x.AppendLog is not null)
                .WithMessage("'append_log.message' is required.");
            RuleFor(x => x.TelemetrySummary).SetValidator(new TelemetrySummaryRules()!);
            RuleFor(x => x.AppendTelemetrySample).Must(TelemetrySamples.IsValid!).When(x => x.AppendTelemetrySample is not null)
                .WithMessage(TelemetrySamples.Rule);
            RuleFor(x => x.ErrorSummary).MaximumLength(Finishing.FailRunRequest.MaxErrorSummaryLength);
        }
    }
}

public static class PatchRunEndpoint
{
    [Authorize(Scopes.RunsWrite)]
    [WolverinePatch("/v1/jobs/{job}/runs/{run}", OperationId = "patchRun", Summary = "Change a run in one call")]
    [Tags("Writing runs")]
    [ProducesResponseType<RunView>(StatusCodes.Status200OK)]
    public static RunAnswer Patch(PatchRunRequest body, Run run, RunSecrets secrets, IOptions<RunsOptions> options, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        LogLineInput? line = null;
        if (body.AppendLog is { } log)
        {
            LogLevels.TryParse(log.Level ?? "info", out var level);
            line = new LogLineInput(level, log.Message!);
        }
        var sample = body.AppendTelemetrySample is { } given ? TelemetrySamples.Stamp(given, body.FinishedAt ?? now) : null;
        var command = new PatchRun(body.Status, line, body.TelemetrySummary, sample, body.ErrorSummary, body.ExitCode, body.FinishedAt);
        return RunDecider.Patch(run, command, options.Value.Logs.Limits, options.Value.Telemetry.Limits, secrets.ScrubberFor(run), now);
    }
}

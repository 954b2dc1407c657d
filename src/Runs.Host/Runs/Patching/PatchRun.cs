using Runs.Host.Tokens;
using Microsoft.AspNetCore.Authorization;
using System.Text.Json;
using FluentValidation;
using Marten;
using Microsoft.Extensions.Options;
using Runs.Domain;
using Runs.Host.Http;
using Runs.Host.Runs.Writing;
using Runs.Host.Runs.Reading;
using Wolverine;
using Wolverine.Http;

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
    public static readonly string[] Statuses = ["running", "succeeded", "failed", "canceled"];

    public sealed class Validator : AbstractValidator<PatchRunRequest>
    {
        public Validator()
        {
            RuleFor(x => x.Status).Must(s => s is null || Statuses.Contains(s))
                .WithMessage($"'status' must be one of {string.Join(", ", Statuses)}.");
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
    public static RunAnswer Patch(PatchRunRequest body, Run run, RunSecrets secrets, IOptions<RunsOptions> options, TimeProvider clock) =>
        Decide(run, body, secrets.ScrubberFor(run), options.Value.Logs.Limits, options.Value.Telemetry.Limits, clock.GetUtcNow());

    public static Decision Decide(
        Run run, PatchRunRequest body, Scrubber scrubber, LogLimits limits, TelemetryLimits telemetryLimits, DateTimeOffset now)
    {
        // One PATCH is one change: every event it appends takes the call's time, `finished_at` when given.
        var at = body.FinishedAt;
        if (RunDecider.Untimely(run, at, now, "finished_at") is { } untimely)
        {
            return untimely;
        }
        var when = at ?? now;
        var steps = new List<Func<Run, Decision>>();
        if (body.AppendLog is { } log)
        {
            LogLevels.TryParse(log.Level ?? "info", out var level);
            steps.Add(r => RunDecider.AppendLog(r, [new LogLineInput(level, log.Message!)], limits, scrubber, when));
        }
        if (body.TelemetrySummary is not null || body.AppendTelemetrySample is not null)
        {
            IReadOnlyList<IReadOnlyDictionary<string, JsonElement>> samples =
                body.AppendTelemetrySample is { } sample ? [TelemetrySamples.Stamp(sample, when)] : [];
            steps.Add(r => RunDecider.RecordTelemetry(r, new RecordTelemetry(body.TelemetrySummary, samples, at), telemetryLimits, now));
        }
        if (body.ErrorSummary is not null || body.ExitCode is not null)
        {
            var summary = body.ErrorSummary is null ? null : scrubber.Scrub(body.ErrorSummary);
            steps.Add(r => RunDecider.Decide(r, new ReportResult(summary, body.ExitCode, at), now));
        }
        if (body.Status is { } status)
        {
            steps.Add(r => ChangeStatus(r, status, at, now));
        }
        return RunDecider.DecideAll(run, steps);
    }

    private static Decision ChangeStatus(Run run, string status, DateTimeOffset? at, DateTimeOffset now) => status switch
    {
        "running" when run.Status == RunStatus.Paused => RunDecider.Decide(run, new ContinueRun(at), now),
        "running" => RunDecider.Decide(run, new StartRun(null, at), now),
        "succeeded" => RunDecider.Decide(run, new SucceedRun(null, at), now),
        "failed" when run.ErrorSummary is null && run.Status is RunStatus.Running or RunStatus.Paused =>
            new Decision.Invalid("error_summary", "'status: failed' needs an 'error_summary', in this call or earlier."),
        "failed" => RunDecider.Decide(run, new FailRun(run.ErrorSummary ?? "", null, at), now),
        _ => RunDecider.Decide(run, new CancelRun(null, at), now),
    };
}

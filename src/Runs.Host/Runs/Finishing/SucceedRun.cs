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

namespace Runs.Host.Runs.Finishing;

/// <summary>The body of <c>POST .../runs/{run}/succeed</c>; optional.</summary>
public sealed record SucceedRunRequest(int? ExitCode = null, DateTimeOffset? At = null, Dictionary<string, JsonElement>? TelemetrySummary = null)
{
    public sealed class Validator : AbstractValidator<SucceedRunRequest>
    {
        public Validator() => RuleFor(x => x.TelemetrySummary).SetValidator(new TelemetrySummaryRules()!);
    }
}

public static class SucceedRunEndpoint
{
    [Authorize(Scopes.RunsWrite)]
    [WolverinePost("/v1/jobs/{job}/runs/{run}/succeed", OperationId = "succeedRun", Summary = "Mark a run succeeded")]
    [Tags("Writing runs")]
    [ProducesResponseType<RunView>(StatusCodes.Status200OK)]
    public static RunAnswer Post(SucceedRunRequest? body, Run run, IOptions<RunsOptions> options, TimeProvider clock) =>
        Decide(run, body ?? new SucceedRunRequest(), options.Value.Telemetry.Limits, clock.GetUtcNow());

    /// <summary>A final telemetry summary is recorded first, then the run succeeds; both or neither.</summary>
    public static Decision Decide(Run run, SucceedRunRequest body, TelemetryLimits limits, DateTimeOffset now) =>
        RunDecider.DecideAll(run, [
            .. body.TelemetrySummary is { } summary
                ? new Func<Run, Decision>[] { r => RunDecider.RecordTelemetry(r, new RecordTelemetry(summary, [], body.At), limits, now) }
                : [],
            r => RunDecider.Decide(r, new SucceedRun(body.ExitCode, body.At), now),
        ]);
}

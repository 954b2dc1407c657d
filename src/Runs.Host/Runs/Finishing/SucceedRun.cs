
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
        RunDecider.Succeed(run, new SucceedRun(body?.ExitCode, body?.At), body?.TelemetrySummary, options.Value.Telemetry.Limits, clock.GetUtcNow());
}

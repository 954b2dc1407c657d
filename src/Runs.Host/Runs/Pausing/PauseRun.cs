
namespace Runs.Host.Runs.Pausing;

/// <summary>The body of <c>POST .../runs/{run}/pause</c>: a reason is required.</summary>
public sealed record PauseRunRequest(string? Reason = null, DateTimeOffset? At = null)
{
    public sealed class Validator : AbstractValidator<PauseRunRequest>
    {
        public Validator() => RuleFor(x => x.Reason).NotEmpty().MaximumLength(2000);
    }
}

public static class PauseRunEndpoint
{
    [Authorize(Scopes.RunsWrite)]
    [WolverinePost("/v1/jobs/{job}/runs/{run}/pause", OperationId = "pauseRun", Summary = "Pause a running run")]
    [Tags("Writing runs")]
    [ProducesResponseType<RunView>(StatusCodes.Status200OK)]
    public static RunAnswer Post(PauseRunRequest body, Run run, RunSecrets secrets, TimeProvider clock) =>
        RunDecider.Decide(run, new PauseRun(secrets.ScrubberFor(run).Scrub(body.Reason!), body.At), clock.GetUtcNow());
}

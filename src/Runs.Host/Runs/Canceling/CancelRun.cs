
namespace Runs.Host.Runs.Canceling;

/// <summary>The body of <c>POST .../runs/{run}/cancel</c>; optional. Canceling a finished run changes nothing.</summary>
public sealed record CancelRunRequest(string? Reason = null, DateTimeOffset? At = null)
{
    public sealed class Validator : AbstractValidator<CancelRunRequest>
    {
        public Validator() => RuleFor(x => x.Reason).MaximumLength(2000);
    }
}

public static class CancelRunEndpoint
{
    [Authorize(Scopes.RunsWrite)]
    [WolverinePost("/v1/jobs/{job}/runs/{run}/cancel", OperationId = "cancelRun", Summary = "Cancel a run")]
    [Tags("Writing runs")]
    [ProducesResponseType<RunView>(StatusCodes.Status200OK)]
    public static RunAnswer Post(CancelRunRequest? body, Run run, RunSecrets secrets, TimeProvider clock) =>
        RunDecider.Decide(run, new CancelRun(body?.Reason is { } reason ? secrets.ScrubberFor(run).Scrub(reason) : null, body?.At), clock.GetUtcNow());
}

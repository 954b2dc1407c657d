
namespace Runs.Host.Runs.Rejecting;

/// <summary>The body of <c>POST .../runs/{run}/reject</c>: a reason is required; only pending runs can be rejected.</summary>
public sealed record RejectRunRequest(string? Reason = null, DateTimeOffset? At = null)
{
    public sealed class Validator : AbstractValidator<RejectRunRequest>
    {
        public Validator() => RuleFor(x => x.Reason).NotEmpty().MaximumLength(2000);
    }
}

public static class RejectRunEndpoint
{
    [Authorize(Scopes.RunsWrite)]
    [WolverinePost("/v1/jobs/{job}/runs/{run}/reject", OperationId = "rejectRun", Summary = "Reject a pending run")]
    [Tags("Writing runs")]
    [ProducesResponseType<RunView>(StatusCodes.Status200OK)]
    public static RunAnswer Post(RejectRunRequest body, Run run, RunSecrets secrets, TimeProvider clock) =>
        RunDecider.Decide(run, new RejectRun(secrets.ScrubberFor(run).Scrub(body.Reason!), body.At), clock.GetUtcNow());
}

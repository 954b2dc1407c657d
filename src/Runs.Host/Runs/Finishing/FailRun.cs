
namespace Runs.Host.Runs.Finishing;

/// <summary>The body of <c>POST .../runs/{run}/fail</c>: an error summary is required.</summary>
public sealed record FailRunRequest(string? ErrorSummary = null, int? ExitCode = null, DateTimeOffset? At = null)
{
    public const int MaxErrorSummaryLength = 64 * 1024;

    public sealed class Validator : AbstractValidator<FailRunRequest>
    {
        public Validator() => RuleFor(x => x.ErrorSummary).NotEmpty().MaximumLength(MaxErrorSummaryLength);
    }
}

public static class FailRunEndpoint
{
    [Authorize(Scopes.RunsWrite)]
    [WolverinePost("/v1/jobs/{job}/runs/{run}/fail", OperationId = "failRun", Summary = "Mark a run failed")]
    [Tags("Writing runs")]
    [ProducesResponseType<RunView>(StatusCodes.Status200OK)]
    public static RunAnswer Post(FailRunRequest body, Run run, RunSecrets secrets, TimeProvider clock) =>
        RunDecider.Decide(run, new FailRun(secrets.ScrubberFor(run).Scrub(body.ErrorSummary!), body.ExitCode, body.At), clock.GetUtcNow());
}

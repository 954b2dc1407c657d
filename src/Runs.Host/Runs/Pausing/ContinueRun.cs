
namespace Runs.Host.Runs.Pausing;

/// <summary>The optional body of <c>POST .../runs/{run}/continue</c>.</summary>
public sealed record ContinueRunRequest(DateTimeOffset? At = null);

public static class ContinueRunEndpoint
{
    [Authorize(Scopes.RunsWrite)]
    [WolverinePost("/v1/jobs/{job}/runs/{run}/continue", OperationId = "continueRun", Summary = "Continue a paused run")]
    [Tags("Writing runs")]
    [ProducesResponseType<RunView>(StatusCodes.Status200OK)]
    public static RunAnswer Post(ContinueRunRequest? body, Run run, TimeProvider clock) =>
        RunDecider.Decide(run, new ContinueRun(body?.At), clock.GetUtcNow());
}

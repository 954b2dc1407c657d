using Runs.Host.Tokens;
using Microsoft.AspNetCore.Authorization;
using Marten;
using Runs.Domain;
using Runs.Host.Http;
using Runs.Host.Runs.Writing;
using Runs.Host.Runs.Reading;
using Wolverine;
using Wolverine.Http;

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

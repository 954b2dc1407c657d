using Runs.Host.Tokens;
using Microsoft.AspNetCore.Authorization;
using Marten;
using Runs.Domain;
using Runs.Host.Http;
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
    [Consumes(typeof(ContinueRunRequest), "application/json", IsOptional = true)]
    [ProducesResponseType<RunView>(StatusCodes.Status200OK)]
    public static Task<IResult> Post(string job, string run, HttpContext http, JsonBody json, IDocumentSession session, IMessageBus bus, TimeProvider clock) =>
        RunWrites.ExecuteAsync<ContinueRunRequest>(job, run, http, json, session, bus, null,
            (body, current) => RunDecider.Decide(current, new ContinueRun(body?.At), clock.GetUtcNow()));
}

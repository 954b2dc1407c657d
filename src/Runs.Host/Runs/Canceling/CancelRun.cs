using Runs.Host.Tokens;
using Microsoft.AspNetCore.Authorization;
using FluentValidation;
using Marten;
using Runs.Domain;
using Runs.Host.Http;
using Runs.Host.Runs.Reading;
using Wolverine;
using Wolverine.Http;

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
    [Consumes(typeof(CancelRunRequest), "application/json", IsOptional = true)]
    [ProducesResponseType<RunView>(StatusCodes.Status200OK)]
    public static Task<IResult> Post(string job, string run, HttpContext http, JsonBody json, IDocumentSession session, IMessageBus bus, RunSecrets secrets, TimeProvider clock) =>
        RunWrites.ExecuteAsync(job, run, http, json, session, bus, new CancelRunRequest.Validator(),
            (body, current) => RunDecider.Decide(current, new CancelRun(body?.Reason is { } reason ? secrets.ScrubberFor(current).Scrub(reason) : null, body?.At), clock.GetUtcNow()));
}

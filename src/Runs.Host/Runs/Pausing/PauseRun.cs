using Runs.Host.Tokens;
using Microsoft.AspNetCore.Authorization;
using FluentValidation;
using Marten;
using Runs.Domain;
using Runs.Host.Http;
using Runs.Host.Runs.Reading;
using Wolverine;
using Wolverine.Http;

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
    [Consumes(typeof(PauseRunRequest), "application/json")]
    [ProducesResponseType<RunView>(StatusCodes.Status200OK)]
    public static Task<IResult> Post(string job, string run, HttpContext http, JsonBody json, IDocumentSession session, IMessageBus bus, RunSecrets secrets, TimeProvider clock) =>
        RunWrites.ExecuteAsync(job, run, http, json, session, bus, new PauseRunRequest.Validator(),
            (body, current) => RunDecider.Decide(current, new PauseRun(secrets.ScrubberFor(current).Scrub(body!.Reason!), body.At), clock.GetUtcNow()),
            bodyRequired: true);
}


namespace Runs.Host.Runs.Starting;

/// <summary>The body of <c>POST .../runs/{run}/start</c>; optional.</summary>
public sealed record StartRunRequest(string? Runner = null, DateTimeOffset? At = null)
{
    public sealed class Validator : AbstractValidator<StartRunRequest>
    {
        public Validator() => RuleFor(x => x.Runner).MaximumLength(200);
    }
}

public static class StartRunEndpoint
{
    [Authorize(Scopes.RunsWrite)]
    [WolverinePost("/v1/jobs/{job}/runs/{run}/start", OperationId = "startRun", Summary = "Start a run")]
    [Tags("Writing runs")]
    [ProducesResponseType<RunView>(StatusCodes.Status200OK)]
    public static RunAnswer Post(StartRunRequest? body, Run run, TimeProvider clock) =>
        RunDecider.Decide(run, new StartRun(body?.Runner, body?.At), clock.GetUtcNow());
}

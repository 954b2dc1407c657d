using Microsoft.AspNetCore.Authorization.Policy;

namespace Runs.Host.Auth;

/// <summary>
/// Authorization, once, in ASP.NET Core's pipeline: an endpoint names the scope it needs
/// (<c>[Authorize(Scopes.RunsRead)]</c>); the policy of that name also checks that a <c>{job}</c> in the
/// route is within the token's grants. Refusals answer as the contract says — 403 naming the missing scope;
/// 404 for a job outside the grants, so its existence is not revealed — before any body is read.
/// </summary>
public static class ScopePolicies
{
    /// <summary>
    /// Registering or changing a webhook endpoint: it receives the run summaries, error lines and telemetry of
    /// the jobs it subscribes to, so managing one is reading them.
    /// </summary>
    public const string WebhookOwner = "webhook-owner";

    public static AuthorizationBuilder AddScopePolicies(this AuthorizationBuilder authorization)
    {
        foreach (var scope in Scopes.All)
        {
            authorization.AddPolicy(scope, policy => policy
                .RequireAuthenticatedUser()
                .AddRequirements(new ScopeRequirement(scope), JobGrantRequirement.Instance));
        }
        authorization.AddPolicy(WebhookOwner, policy => policy
            .RequireAuthenticatedUser()
            .AddRequirements(
                new ScopeRequirement(Scopes.WebhooksManage),
                new ScopeRequirement(Scopes.RunsRead, "a webhook endpoint receives the runs it subscribes to, so it needs a token that may read them")));
        authorization.Services.AddSingleton<IAuthorizationHandler, ScopeRequirement.Check>();
        authorization.Services.AddSingleton<IAuthorizationHandler, JobGrantRequirement.Check>();
        authorization.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, Refusals>();
        return authorization;
    }

    /// <summary>The token carries the scope, or <c>admin</c>.</summary>
    public sealed record ScopeRequirement(string Scope, string? Why = null) : IAuthorizationRequirement
    {
        public sealed class Check : AuthorizationHandler<ScopeRequirement>
        {
            protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
            {
                if (context.User.HasScope(requirement.Scope))
                {
                    context.Succeed(requirement);
                }
                return Task.CompletedTask;
            }
        }
    }

    /// <summary>The route's <c>{job}</c>, when it has one, is covered by one of the token's job grants.</summary>
    public sealed class JobGrantRequirement : IAuthorizationRequirement
    {
        public static readonly JobGrantRequirement Instance = new();

        public static string? JobOf(object? resource) =>
            (resource as HttpContext)?.Request.RouteValues.TryGetValue("job", out var job) == true ? job as string : null;

        public sealed class Check : AuthorizationHandler<JobGrantRequirement>
        {
            protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, JobGrantRequirement requirement)
            {
                if (JobOf(context.Resource) is not { } job || context.User.CoversJob(job))
                {
                    context.Succeed(requirement);
                }
                return Task.CompletedTask;
            }
        }
    }

    private sealed class Refusals : IAuthorizationMiddlewareResultHandler
    {
        private readonly AuthorizationMiddlewareResultHandler _default = new();

        public Task HandleAsync(RequestDelegate next, HttpContext http, AuthorizationPolicy policy, PolicyAuthorizationResult result)
        {
            if (!result.Forbidden || result.AuthorizationFailure is not { } failure)
            {
                return _default.HandleAsync(next, http, policy, result);
            }
            var refusal = failure.FailedRequirements.OfType<ScopeRequirement>().FirstOrDefault() is { } missing
                ? Problems.Forbidden($"The token lacks the '{missing.Scope}' scope{(missing.Why is null ? "" : ": " + missing.Why)}.")
                : Problems.NotFound($"No job '{JobGrantRequirement.JobOf(http)}'.");
            return refusal.ExecuteAsync(http);
        }
    }
}

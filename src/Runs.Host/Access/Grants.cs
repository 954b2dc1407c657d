using System.Security.Claims;
using Runs.Host.Http;

namespace Runs.Host.Access;

/// <summary>What the calling token may do: its scopes, and the jobs (names, <c>*</c> or globs) it covers.</summary>
public static class Grants
{
    public static bool HasScope(this ClaimsPrincipal user, string scope) =>
        user.HasClaim(BearerTokens.ScopeClaim, scope) || user.HasClaim(BearerTokens.ScopeClaim, Scopes.Admin);

    public static bool CoversJob(this ClaimsPrincipal user, string job) =>
        user.FindAll(BearerTokens.JobClaim).Any(grant => Matches(grant.Value, job));

    public static string Actor(this ClaimsPrincipal user) => user.Identity?.Name ?? "anonymous";

    /// <summary>
    /// 403 without the scope; 404 for a job outside the token's grants, so its existence is not revealed.
    /// Null when the request may go on.
    /// </summary>
    public static IResult? Refuse(this ClaimsPrincipal user, string scope, string job) =>
        RefuseUnlessScope(user, scope) ?? (user.CoversJob(job) ? null : Problems.NotFound($"No job '{job}'."));

    /// <summary>403 unless the token has the scope (an <c>admin</c> token has every scope).</summary>
    public static IResult? RefuseUnlessScope(this ClaimsPrincipal user, string scope) =>
        user.HasScope(scope)
            ? null
            : Results.Problem(
                detail: $"The token lacks the '{scope}' scope.",
                statusCode: StatusCodes.Status403Forbidden,
                title: "Forbidden.");

    /// <summary><c>*</c> matches every job; a trailing or inner <c>*</c> matches any run of characters.</summary>
    public static bool Matches(string grant, string job)
    {
        if (grant == "*" || grant == job)
        {
            return true;
        }
        if (!grant.Contains('*'))
        {
            return false;
        }
        var parts = grant.Split('*');
        if (!job.StartsWith(parts[0], StringComparison.Ordinal) || !job.EndsWith(parts[^1], StringComparison.Ordinal))
        {
            return false;
        }
        var position = parts[0].Length;
        foreach (var middle in parts[1..^1])
        {
            var found = job.IndexOf(middle, position, StringComparison.Ordinal);
            if (found < 0)
            {
                return false;
            }
            position = found + middle.Length;
        }
        return position <= job.Length - parts[^1].Length;
    }
}

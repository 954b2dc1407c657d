

namespace Runs.Host.Auth;

/// <summary>What the calling token may do: its scopes, and the jobs (names, <c>*</c> or globs) it covers.</summary>
public static class Grants
{
    public static bool HasScope(this ClaimsPrincipal user, string scope) =>
        user.HasClaim(BearerTokens.ScopeClaim, scope) || user.HasClaim(BearerTokens.ScopeClaim, Scopes.Admin);

    public static bool CoversJob(this ClaimsPrincipal user, string job) =>
        user.FindAll(BearerTokens.JobClaim).Any(grant => Matches(grant.Value, job));

    /// <summary>
    /// Whether every job pattern is within the token's own grants, so that what it hands out or takes back
    /// (tokens) never reaches beyond what it may reach itself. Containment of one glob in another is checked
    /// conservatively: a pattern is covered by <c>*</c>, by itself, by a grant that matches it as a plain
    /// name, or by a <c>prefix*</c> grant it starts with.
    /// </summary>
    public static bool CoversJobs(this ClaimsPrincipal user, IEnumerable<string> patterns)
    {
        var grants = user.FindAll(BearerTokens.JobClaim).Select(c => c.Value).ToList();
        return patterns.All(pattern => grants.Any(grant => Contains(grant, pattern)));
    }

    private static bool Contains(string grant, string pattern) =>
        grant == "*" || grant == pattern
        || (!pattern.Contains('*') && Matches(grant, pattern))
        || (grant.IndexOf('*') == grant.Length - 1 && pattern.StartsWith(grant[..^1], StringComparison.Ordinal));

    /// <summary>When the calling token expires, if it does.</summary>
    public static DateTimeOffset? ExpiresOn(this ClaimsPrincipal user) =>
        user.FindFirst(BearerTokens.ExpiresClaim)?.Value is { } text ? DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : null;

    public static string Actor(this ClaimsPrincipal user) => user.Identity?.Name ?? "anonymous";

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



namespace Runs.Host.Tokens;

/// <summary>What a new token asks for; shared by <c>POST /v1/tokens</c> and <c>tokens create</c>.</summary>
public sealed record CreateTokenRequest(string? Name, string[]? Scopes, string[]? Jobs, DateTimeOffset? ExpiresAt)
{
    /// <summary>Field → messages; empty when the request is good.</summary>
    public Dictionary<string, string[]> Problems(DateTimeOffset now)
    {
        var problems = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(Name) || Name.Length > 100 || Name.Any(char.IsControl))
        {
            problems["name"] = ["'name' is required: at most 100 characters, no control characters."];
        }
        if (Scopes is null || Scopes.Length == 0 || Scopes.Any(s => !Tokens.Scopes.All.Contains(s)))
        {
            problems["scopes"] = [$"'scopes' must be a non-empty subset of {string.Join(", ", Tokens.Scopes.All)}."];
        }
        if (Jobs is null || Jobs.Length == 0 || Jobs.Length > 100 || Jobs.Any(j => j is null || (j != "*" && !JobName.IsValid(j.Replace("*", "x")))))
        {
            problems["jobs"] = ["'jobs' must list (at most 100) job names, globs such as 'nightly-*', or '*'."];
        }
        if (ExpiresAt is { } expires && expires <= now)
        {
            problems["expires_at"] = ["'expires_at' must be in the future."];
        }
        return problems;
    }
}

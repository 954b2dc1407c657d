using Runs.Domain;

namespace Runs.Host.Access;

/// <summary>What a new token asks for; shared by <c>POST /v1/tokens</c> and <c>tokens create</c>.</summary>
public sealed record CreateTokenRequest(string? Name, string[]? Scopes, string[]? Jobs, DateTimeOffset? ExpiresAt)
{
    public List<string> Problems(DateTimeOffset now)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Name) || Name.Length > 100)
        {
            problems.Add("'name' is required, at most 100 characters.");
        }
        if (Scopes is null || Scopes.Length == 0 || Scopes.Any(s => !Access.Scopes.All.Contains(s)))
        {
            problems.Add($"'scopes' must be a non-empty subset of {string.Join(", ", Access.Scopes.All)}.");
        }
        if (Jobs is null || Jobs.Length == 0 || Jobs.Any(j => j != "*" && !JobName.IsValid(j.Replace("*", "x"))))
        {
            problems.Add("'jobs' must list job names, globs such as 'nightly-*', or '*'.");
        }
        if (ExpiresAt is { } expires && expires <= now)
        {
            problems.Add("'expires_at' must be in the future.");
        }
        return problems;
    }
}

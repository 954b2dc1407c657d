

namespace Runs.Host.Tokens;

/// <summary>A bearer token's record. Only the SHA-256 of the secret is kept; the secret is shown once.</summary>
public sealed class ApiToken
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Hash { get; set; } = "";
    public string[] Scopes { get; set; } = [];
    public string[] Jobs { get; set; } = [];
    public DateTimeOffset CreatedOn { get; set; }
    public DateTimeOffset? ExpiresOn { get; set; }
    public DateTimeOffset? LastUsedOn { get; set; }

    public const string Prefix = "runs_";

    /// <summary>A new token record and its secret, which exists nowhere else once returned.</summary>
    public static (ApiToken Token, string Secret) Issue(
        string name, IEnumerable<string> scopes, IEnumerable<string> jobs, DateTimeOffset now, DateTimeOffset? expiresOn = null)
    {
        var secret = Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var token = new ApiToken
        {
            Id = "tok_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            Name = name,
            Hash = HashOf(secret),
            Scopes = [.. scopes.Distinct()],
            Jobs = [.. jobs.Distinct()],
            CreatedOn = now,
            ExpiresOn = expiresOn,
        };
        return (token, secret);
    }

    // Tokens carry 256 random bits, so a plain SHA-256 is enough: there is nothing to brute-force.
    public static string HashOf(string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}

public static class Scopes
{
    public const string RunsRead = "runs:read";
    public const string RunsWrite = "runs:write";
    public const string WebhooksManage = "webhooks:manage";
    public const string Admin = "admin";

    public static readonly string[] All = [RunsRead, RunsWrite, WebhooksManage, Admin];
}

using System.Security.Claims;
using System.Security.Cryptography;
using Runs.Host.Access;

namespace Runs.Host.Webhooks;

/// <summary>A signing secret; its value is kept encrypted. A rotated-out secret keeps signing until it expires.</summary>
public sealed record WebhookSecret(string Sealed, DateTimeOffset CreatedOn, DateTimeOffset? ExpiresOn);

/// <summary>An integrator's subscription to runs that end. Stored as a Marten document.</summary>
public sealed class WebhookEndpoint
{
    public string Id { get; set; } = "";
    public string Url { get; set; } = "";
    public string[] Events { get; set; } = [];
    public string[] Jobs { get; set; } = [];
    public string? Description { get; set; }
    public bool Enabled { get; set; } = true;
    public string? DisabledReason { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset CreatedOn { get; set; }
    public List<WebhookSecret> Secrets { get; set; } = [];

    public static readonly string[] EventTypes = ["run.succeeded", "run.failed", "run.canceled", "run.rejected"];

    public static string NewId() => "whk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary><c>whsec_</c> and the base64 of 32 random bytes, as Standard Webhooks secrets look.</summary>
    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public bool Wants(string eventType, string job) =>
        Enabled && Events.Contains(eventType) && Jobs.Any(grant => Grants.Matches(grant, job));

    /// <summary>The secrets that sign now: the current one and any rotated out less than a day ago.</summary>
    public IEnumerable<WebhookSecret> SigningSecrets(DateTimeOffset now) =>
        Secrets.Where(s => s.ExpiresOn is null || s.ExpiresOn > now);

    /// <summary>A token sees an endpoint when every job it covers is within the token's grants.</summary>
    public bool VisibleTo(ClaimsPrincipal user) => Jobs.All(job => Covers(user, job));

    public static bool Covers(ClaimsPrincipal user, string job) =>
        user.HasClaim(BearerTokens.JobClaim, "*") || user.HasClaim(BearerTokens.JobClaim, job)
        || (!job.Contains('*') && user.CoversJob(job));
}

public sealed record WebhookView(
    string Id, string Url, string[] Events, string[] Jobs, string? Description, bool Enabled, string? DisabledReason,
    string CreatedBy, DateTimeOffset CreatedOn, string? Secret = null)
{
    public static WebhookView From(WebhookEndpoint endpoint, string? secret = null) => new(
        endpoint.Id, endpoint.Url, endpoint.Events, endpoint.Jobs, endpoint.Description, endpoint.Enabled,
        endpoint.DisabledReason, endpoint.CreatedBy, endpoint.CreatedOn, secret);
}


namespace Runs.Host.Webhooks;

/// <summary>A signing secret; its value is kept encrypted. A rotated-out secret keeps signing until it expires.</summary>
public sealed record WebhookSecret(string Sealed, DateTimeOffset CreatedOn, DateTimeOffset? ExpiresOn);

/// <summary>
/// An integrator's subscription to runs that end. Stored as a Marten document (optimistic concurrency:
/// a write based on a stale read fails rather than undoing another). It belongs to the token that
/// created it and receives runs only while that token is live and may read them.
/// </summary>
public sealed class WebhookEndpoint : IRouteResource<WebhookEndpoint>
{
    /// <summary>The endpoint <c>{id}</c> names, when it exists and the token may manage it; otherwise 404.</summary>
    public static async Task<(WebhookEndpoint? Resource, IResult? Refusal)> LoadAsync(HttpContext http, IQuerySession session)
    {
        var id = (string)http.Request.RouteValues["id"]!;
        var endpoint = id.Length <= 100 ? await session.LoadAsync<WebhookEndpoint>(id, http.RequestAborted) : null;
        return endpoint is not null && endpoint.ManageableBy(http.User)
            ? (endpoint, null)
            : (null, Problems.NotFound($"No webhook endpoint '{id}'."));
    }

    public string Id { get; set; } = "";
    public string Url { get; set; } = "";
    public string[] Events { get; set; } = [];
    public string[] Jobs { get; set; } = [];
    public string? Description { get; set; }
    public bool Enabled { get; set; } = true;
    public string? DisabledReason { get; set; }
    public string CreatedBy { get; set; } = "";

    /// <summary>The creating token's id; null on endpoints stored before owners were recorded.</summary>
    public string? OwnerTokenId { get; set; }

    public DateTimeOffset CreatedOn { get; set; }
    public List<WebhookSecret> Secrets { get; set; } = [];

    public static readonly string[] EventTypes = ["run.succeeded", "run.failed", "run.canceled", "run.rejected"];

    public static string NewId() => "whk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary><c>whsec_</c> and the base64 of 32 random bytes, as Standard Webhooks secrets look.</summary>
    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The secrets that sign now: the current one and any rotated out less than a day ago.</summary>
    public IEnumerable<WebhookSecret> SigningSecrets(DateTimeOffset now) =>
        Secrets.Where(s => s.ExpiresOn is null || s.ExpiresOn > now);

    public static string? TokenIdOf(ClaimsPrincipal user) => user.FindFirst(BearerTokens.TokenIdClaim)?.Value;

    /// <summary>An admin token over every job sees and manages every endpoint, its owner's gone or not.</summary>
    public static bool SeesAll(ClaimsPrincipal user) =>
        user.HasClaim(BearerTokens.ScopeClaim, Scopes.Admin) && user.HasClaim(BearerTokens.JobClaim, "*");

    /// <summary>Only the owner (or an admin over every job) sees an endpoint, its secret and its deliveries.</summary>
    public bool ManageableBy(ClaimsPrincipal user) =>
        SeesAll(user) || (OwnerTokenId is not null && OwnerTokenId == TokenIdOf(user));

    /// <summary>Whether a token may subscribe to <paramref name="job"/> (a name, a glob or <c>*</c>).</summary>
    public static bool Covers(ClaimsPrincipal user, string job) =>
        user.HasClaim(BearerTokens.JobClaim, "*") || user.HasClaim(BearerTokens.JobClaim, job)
        || (!job.Contains('*') && user.CoversJob(job));

    /// <summary>
    /// Why nothing (of <paramref name="job"/>, when given) may go to this endpoint now, or null: run data
    /// goes only to endpoints whose owner token still exists, has not expired and may read the job's runs.
    /// </summary>
    public string? OwnerRefusal(ApiToken? owner, DateTimeOffset now, string? job = null) => (OwnerTokenId, owner) switch
    {
        (null, _) => "it has no owner token (it was created before endpoints recorded one); create it again with the token that should own it",
        (_, null) => $"its owner token {OwnerTokenId} was revoked",
        (_, { ExpiresOn: { } expires }) when expires <= now => $"its owner token {OwnerTokenId} expired on {Http.Rfc3339Converter.Text(expires)}",
        (_, { } token) when !Reads(token, job) => $"its owner token {OwnerTokenId} may not read runs{(job is null ? "" : $" of '{job}'")}",
        _ => null,
    };

    private static bool Reads(ApiToken token, string? job) =>
        (token.Scopes.Contains(Scopes.RunsRead) || token.Scopes.Contains(Scopes.Admin))
        && (job is null || token.Jobs.Any(grant => Grants.Matches(grant, job)));
}

public sealed record WebhookView(
    string Id, string Url, string[] Events, string[] Jobs, string? Description, bool Enabled, string? DisabledReason,
    string CreatedBy, string? OwnerTokenId, DateTimeOffset CreatedOn, string? Secret = null)
{
    public static WebhookView From(WebhookEndpoint endpoint, string? secret = null) => new(
        endpoint.Id, endpoint.Url, endpoint.Events, endpoint.Jobs, endpoint.Description, endpoint.Enabled,
        endpoint.DisabledReason, endpoint.CreatedBy, endpoint.OwnerTokenId, endpoint.CreatedOn, secret);
}

using System.Security.Claims;
using System.Text.Encodings.Web;
using Marten;
using Runs.Projections;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Runs.Host.Access;

/// <summary>Authenticates <c>Authorization: Bearer &lt;token&gt;</c> against the stored token hashes.</summary>
public sealed class BearerTokens(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IDocumentStore store,
    Npgsql.NpgsqlDataSource database,
    TimeProvider clock)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";
    public const string ScopeClaim = "scope";
    public const string JobClaim = "job";
    public const string TokenIdClaim = "token_id";
    public const string ExpiresClaim = "expires_on";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return AuthenticateResult.NoResult();
        }
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length > 1024)
        {
            return AuthenticateResult.Fail("The Authorization header must be 'Bearer <token>'.");
        }

        var token = await FindAsync(ApiToken.HashOf(header["Bearer ".Length..].Trim()));
        if (token is null)
        {
            return AuthenticateResult.Fail("The token is unknown or was revoked.");
        }
        if (token.ExpiresOn is { } expires && expires <= clock.GetUtcNow())
        {
            return AuthenticateResult.Fail("The token has expired.");
        }

        await NoteUseAsync(token);

        var claims = new List<Claim> { new(ClaimTypes.Name, token.Name), new(TokenIdClaim, token.Id) };
        claims.AddRange(token.Scopes.Select(s => new Claim(ScopeClaim, s)));
        claims.AddRange(token.Jobs.Select(j => new Claim(JobClaim, j)));
        if (token.ExpiresOn is { } expiresOn)
        {
            claims.Add(new Claim(ExpiresClaim, expiresOn.ToString("O")));
        }
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    /// <summary>Last use is kept to the minute: a write per request would cost more than it tells.</summary>
    private async Task NoteUseAsync(ApiToken token)
    {
        var now = clock.GetUtcNow();
        if (token.LastUsedOn is { } last && now - last < TimeSpan.FromMinutes(1))
        {
            return;
        }
        await using var command = database.CreateCommand(
            $"update {RunsStore.Schema}.mt_doc_apitoken set data = jsonb_set(data, '{{last_used_on}}', to_jsonb($2::text)) where id = $1");
        command.Parameters.Add(new() { Value = token.Id });
        command.Parameters.Add(new() { Value = now.UtcDateTime.ToString("O") });
        await command.ExecuteNonQueryAsync(Context.RequestAborted);
    }

    // Every request looks its token up: one indexed read straight through Npgsql, no session or LINQ.
    private async Task<ApiToken?> FindAsync(string hash)
    {
        await using var command = database.CreateCommand(
            $"select data from {RunsStore.Schema}.mt_doc_apitoken where data ->> 'hash' = $1");
        command.Parameters.Add(new() { Value = hash });
        await using var reader = await command.ExecuteReaderAsync(Context.RequestAborted);
        return await reader.ReadAsync(Context.RequestAborted)
            ? store.Options.Serializer().FromJson<ApiToken>(reader, 0)
            : null;
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message;
        await Results.Problem(
                detail: failure ?? "This request needs 'Authorization: Bearer <token>'.",
                statusCode: StatusCodes.Status401Unauthorized,
                title: "Unauthorized.")
            .ExecuteAsync(Context);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Results.Problem(
                detail: "The token does not have the scope this request needs.",
                statusCode: StatusCodes.Status403Forbidden,
                title: "Forbidden.")
            .ExecuteAsync(Context);
}

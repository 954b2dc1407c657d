using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;


namespace Runs.Host.Auth;

/// <summary>Authenticates <c>Authorization: Bearer &lt;token&gt;</c> against the stored token hashes.</summary>
public sealed class BearerTokens(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    TokenLookup tokens)
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

        var token = await tokens.FindByHashAsync(ApiToken.HashOf(header["Bearer ".Length..].Trim()), Context.RequestAborted);
        if (token is null)
        {
            return AuthenticateResult.Fail(TokenLookup.Unknown);
        }
        if (tokens.HasExpired(token))
        {
            return AuthenticateResult.Fail(TokenLookup.Expired);
        }

        await tokens.NoteUseAsync(token, Context.RequestAborted);

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

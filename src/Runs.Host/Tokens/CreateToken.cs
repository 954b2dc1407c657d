
namespace Runs.Host.Tokens;

public static class CreateTokenEndpoint
{
    /// <summary>
    /// The authorization that depends on the body, run by Wolverine before <see cref="Post"/>: an admin token limited
    /// to some jobs or to a lifetime hands out nothing beyond them (every scope it has).
    /// </summary>
    public static IResult Validate(CreateTokenRequest body, ClaimsPrincipal user)
    {
        if (!user.CoversJobs(body.Jobs!))
        {
            return Problems.Forbidden("A token can only grant jobs within its own grants: " +
                $"{string.Join(", ", user.FindAll(BearerTokens.JobClaim).Select(c => c.Value))}.");
        }
        return user.ExpiresOn() is { } limit && (body.ExpiresAt ?? limit) > limit
            ? Problems.Forbidden($"A token cannot outlive the token that creates it ({Rfc3339Converter.Text(limit)}).")
            : WolverineContinue.Result();
    }

    [Authorize(Scopes.Admin)]
    [WolverinePost("/v1/tokens", OperationId = "createToken", Summary = "Create a token")]
    [Tags("Tokens")]
    [ProducesResponseType<IssuedToken>(StatusCodes.Status201Created)]
    public static IResult Post(CreateTokenRequest body, ClaimsPrincipal user, IDocumentSession session, TimeProvider clock)
    {
        var expiresOn = body.ExpiresAt ?? user.ExpiresOn();
        var (token, secret) = ApiToken.Issue(body.Name!, body.Scopes!, body.Jobs!, clock.GetUtcNow(), expiresOn);
        session.Insert(token);
        return Results.Created($"/v1/tokens/{token.Id}",
            new IssuedToken(token.Id, token.Name, token.Scopes, token.Jobs, secret, token.CreatedOn, token.ExpiresOn, token.LastUsedOn));
    }
}

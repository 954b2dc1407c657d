
namespace Runs.Host.Tokens;

/// <summary>The body of <c>POST /v1/tokens</c>.</summary>
public sealed record CreateToken(string? Name = null, string[]? Scopes = null, string[]? Jobs = null, DateTimeOffset? ExpiresAt = null);

public static class CreateTokenEndpoint
{
    [Authorize(Scopes.Admin)]
    [WolverinePost("/v1/tokens", OperationId = "createToken", Summary = "Create a token")]
    [Tags("Tokens")]
    [Consumes(typeof(CreateToken), "application/json")]
    [ProducesResponseType<IssuedToken>(StatusCodes.Status201Created)]
    public static async Task<IResult> Post(HttpContext http, JsonBody json, IDocumentSession session, TimeProvider clock)
    {
        var (body, problem) = await json.ReadAsync<CreateToken>(http.Request, required: true);
        if (problem is not null)
        {
            return problem;
        }
        var now = clock.GetUtcNow();
        var request = new CreateTokenRequest(body!.Name, body.Scopes, body.Jobs, body.ExpiresAt);
        if (request.Problems(now) is { Count: > 0 } problems)
        {
            return Problems.Invalid(problems);
        }

        // An admin token limited to some jobs or to a lifetime hands out nothing beyond them (every scope it has).
        if (!http.User.CoversJobs(request.Jobs!))
        {
            return Problems.Forbidden("A token can only grant jobs within its own grants: " +
                $"{string.Join(", ", http.User.FindAll(BearerTokens.JobClaim).Select(c => c.Value))}.");
        }
        var expiresOn = request.ExpiresAt ?? http.User.ExpiresOn();
        if (http.User.ExpiresOn() is { } limit && expiresOn > limit)
        {
            return Problems.Forbidden($"A token cannot outlive the token that creates it ({Rfc3339Converter.Text(limit)}).");
        }

        var (token, secret) = ApiToken.Issue(request.Name!, request.Scopes!, request.Jobs!, now, expiresOn);
        session.Insert(token);
        return Results.Created($"/v1/tokens/{token.Id}",
            new IssuedToken(token.Id, token.Name, token.Scopes, token.Jobs, secret, token.CreatedOn, token.ExpiresOn, token.LastUsedOn));
    }
}


namespace Runs.Host.Tokens;

public static class ListTokensEndpoint
{
    [Authorize(Scopes.Admin)]
    [WolverineGet("/v1/tokens", OperationId = "listTokens", Summary = "List tokens")]
    [Tags("Tokens")]
    [ProducesResponseType<TokenList>(StatusCodes.Status200OK)]
    public static async Task<IResult> Get(HttpContext http, IQuerySession session)
    {
        var tokens = await session.Query<ApiToken>().OrderBy(t => t.CreatedOn).ToListAsync(http.RequestAborted);
        // Only tokens within the caller's own grants: those it could have made, and may revoke.
        return Results.Ok(new TokenList([.. tokens.Where(t => http.User.CoversJobs(t.Jobs)).Select(TokenView.From)]));
    }
}


namespace Runs.Host.Tokens;

public static class RevokeTokenEndpoint
{
    /// <summary>Deletes the token's record: its next request, on any host, is 401.</summary>
    [Authorize(Scopes.Admin)]
    [WolverineDelete("/v1/tokens/{id}", OperationId = "revokeToken", Summary = "Revoke a token")]
    [Tags("Tokens")]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    public static async Task<IResult> Delete(string id, HttpContext http, IDocumentSession session)
    {
        // A token beyond the caller's own grants is not revealed, as a job outside them is not.
        if (id.Length > 100 || await session.LoadAsync<ApiToken>(id, http.RequestAborted) is not { } token || !http.User.CoversJobs(token.Jobs))
        {
            return Problems.NotFound($"No token '{id}'.");
        }
        session.Delete<ApiToken>(id);
        return Results.NoContent();
    }
}

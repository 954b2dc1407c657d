
namespace Runs.Host.Tokens;

/// <summary>A token as lists show it: never its secret.</summary>
public sealed record TokenView(
    string Id, string Name, string[] Scopes, string[] Jobs, DateTimeOffset CreatedOn, DateTimeOffset? ExpiresOn, DateTimeOffset? LastUsedOn)
{
    public static TokenView From(ApiToken token) =>
        new(token.Id, token.Name, token.Scopes, token.Jobs, token.CreatedOn, token.ExpiresOn, token.LastUsedOn);
}

/// <summary>The answer to a create: the token's record and, this once, its secret.</summary>
public sealed record IssuedToken(
    string Id, string Name, string[] Scopes, string[] Jobs, string Token, DateTimeOffset CreatedOn, DateTimeOffset? ExpiresOn, DateTimeOffset? LastUsedOn);

public sealed record TokenList(IReadOnlyList<TokenView> Tokens);

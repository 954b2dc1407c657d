
namespace Runs.Host.Tokens;

// Lower-case so the command line reads `tokens create`.
#pragma warning disable IDE1006
public enum TokensAction
{
    create,
    list,
    revoke,
}
#pragma warning restore IDE1006

public sealed class TokensInput : NetCoreInput
{
    [Description("create, list or revoke")]
    public TokensAction Action { get; set; }

    [Description("revoke: the token id")]
    public string? Id { get; set; }

    [Description("create: the token's name, recorded as the actor of everything it does")]
    public string NameFlag { get; set; } = "";

    [Description("create: comma-separated scopes: runs:read, runs:write, webhooks:manage, admin")]
    public string ScopesFlag { get; set; } = "";

    [Description("create: comma-separated job names or globs, or '*' for every job")]
    public string JobsFlag { get; set; } = "*";

    [Description("create: expiry time (RFC 3339); never expires when omitted")]
    [FlagAlias("expires-at", true)]
    public string? ExpiresFlag { get; set; }
}

[Description("Create, list or revoke API tokens. 'create' prints the new token as the last line.", Name = "tokens")]
public sealed class TokensCommand : JasperFxAsyncCommand<TokensInput>
{
    public TokensCommand()
    {
        Usage("Create a token").Arguments(x => x.Action)
            .ValidFlags(x => x.NameFlag, x => x.ScopesFlag, x => x.JobsFlag, x => x.ExpiresFlag!);
        Usage("Revoke a token").Arguments(x => x.Action, x => x.Id!);
    }

    public override async Task<bool> Execute(TokensInput input)
    {
        using var host = input.BuildHost();
        var store = host.Services.GetRequiredService<IDocumentStore>();
        var now = host.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        await using var session = store.LightweightSession();

        switch (input.Action)
        {
            case TokensAction.create:
                var request = new CreateTokenRequest(
                    input.NameFlag, Split(input.ScopesFlag), Split(input.JobsFlag),
                    input.ExpiresFlag is null ? null : DateTimeOffset.Parse(input.ExpiresFlag, System.Globalization.CultureInfo.InvariantCulture));
                var validation = host.Services.GetRequiredService<IValidator<CreateTokenRequest>>().Validate(request);
                if (!validation.IsValid)
                {
                    foreach (var error in validation.Errors)
                    {
                        Console.Error.WriteLine($"error: {error.ErrorMessage}");
                    }
                    return false;
                }
                var (token, secret) = ApiToken.Issue(request.Name!, request.Scopes!, request.Jobs!, now, request.ExpiresAt);
                session.Store(token);
                await session.SaveChangesAsync();
                Console.WriteLine($"Created token {token.Id} '{token.Name}' with scopes [{string.Join(", ", token.Scopes)}] for jobs [{string.Join(", ", token.Jobs)}].");
                Console.WriteLine("It is shown only now; keep it secret. Use it as 'Authorization: Bearer <token>':");
                Console.WriteLine(secret);
                return true;

            case TokensAction.list:
                var tokens = await session.Query<ApiToken>().OrderBy(t => t.CreatedOn).ToListAsync();
                Console.WriteLine($"{"ID",-22} {"NAME",-24} {"SCOPES",-40} {"JOBS",-20} CREATED");
                foreach (var t in tokens)
                {
                    Console.WriteLine($"{t.Id,-22} {t.Name,-24} {string.Join(",", t.Scopes),-40} {string.Join(",", t.Jobs),-20} {t.CreatedOn:O}");
                }
                return true;

            case TokensAction.revoke:
                if (string.IsNullOrEmpty(input.Id) || await session.LoadAsync<ApiToken>(input.Id) is null)
                {
                    Console.Error.WriteLine($"error: no token '{input.Id}'.");
                    return false;
                }
                session.Delete<ApiToken>(input.Id);
                await session.SaveChangesAsync();
                Console.WriteLine($"Revoked token {input.Id}.");
                return true;
        }
        return false;
    }

    private static string[] Split(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

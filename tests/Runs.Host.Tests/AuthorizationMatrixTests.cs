
namespace Runs.Host.Tests;

/// <summary>
/// Every /v1 route the app maps, read from its endpoint data sources (a new route cannot be forgotten),
/// refuses a missing token, a revoked token, a token without the route's scope and — where the route
/// names a job — a token for another job; never with a 2xx or a 5xx.
/// </summary>
[Collection(DefaultCollection.Name)]
public sealed class AuthorizationMatrixTests(DefaultHost fixture) : HostSpecification<DefaultHost>(fixture, "admin")
{
    private string _runId = "";
    private string _revoked = "";
    private string _otherJob = "";
    private string _otherJobAdmin = "";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _runId = (string)(await Api.TriggerAsync(Token, job: "matrix"))["id"]!;
        _revoked = await Fixture.TokenAsync("revoked");
        await using (var session = Fixture.Store.LightweightSession())
        {
            session.DeleteWhere<ApiToken>(t => t.Name == "revoked");
            await session.SaveChangesAsync();
        }
        _otherJob = await Fixture.TokenAsync("elsewhere", [Scopes.RunsRead, Scopes.RunsWrite, Scopes.WebhooksManage], ["elsewhere"]);
        _otherJobAdmin = await Fixture.TokenAsync("elsewhere-admin", Scopes.All, ["elsewhere"]);
    }

    /// <summary>The scope the route needs; null for a route any valid token may call.</summary>
    public static string? ScopeFor(Route route) => route.Pattern switch
    {
        "/v1/ledger/keys" => null,
        _ when route.Pattern.StartsWith("/v1/tokens", StringComparison.Ordinal) => Scopes.Admin,
        _ when route.Pattern.StartsWith("/v1/ledger", StringComparison.Ordinal) => Scopes.Admin,
        _ when route.Pattern.EndsWith("/export", StringComparison.Ordinal) => Scopes.Admin,
        _ when route.Pattern.StartsWith("/v1/webhooks", StringComparison.Ordinal) => Scopes.WebhooksManage,
        _ when route.Method == "GET" => Scopes.RunsRead,
        _ => Scopes.RunsWrite,
    };

    private string Url(Route route) => route.Pattern
        .Replace("{job}", "matrix").Replace("{run}", _runId).Replace("{name}", "file.txt")
        .Replace("{id}", "tok_0000000000000000").Replace("{delivery}", "d1");

    private async Task<HttpStatusCode> Send(Route route, string? token)
    {
        var request = new HttpRequestMessage(new HttpMethod(route.Method), Url(route));
        if (route.Method is "POST" or "PUT" or "PATCH")
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }
        if (token is not null)
        {
            request.Headers.Add("Authorization", $"Bearer {token}");
        }
        var response = await Api.Server.CreateClient().SendAsync(request);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return response.StatusCode;
    }

    [Fact]
    public async Task Every_route_refuses_every_caller_it_should()
    {
        var routes = RouteTable.V1Routes(Api);
        Assert.Contains(routes, r => r.Pattern == "/v1/jobs/{job}/runs/{run}");
        var failures = new List<string>();

        foreach (var route in routes)
        {
            var scope = ScopeFor(route);
            var lacking = await Fixture.TokenAsync("lacking", [.. Scopes.All.Where(s => s != scope && s != Scopes.Admin)], ["*"]);

            var cases = new List<(string Caller, string? Token, HttpStatusCode Expected)>
            {
                ("no token", null, HttpStatusCode.Unauthorized),
                ("revoked token", _revoked, HttpStatusCode.Unauthorized),
            };
            if (scope is not null)
            {
                cases.Add(($"token without {scope}", lacking, HttpStatusCode.Forbidden));
            }
            if (route.Pattern.Contains("{job}"))
            {
                cases.Add(("token for another job", scope == Scopes.Admin ? _otherJobAdmin : _otherJob, HttpStatusCode.NotFound));
            }

            foreach (var (caller, token, expected) in cases)
            {
                var status = await Send(route, token);
                if (status != expected)
                {
                    failures.Add($"{route.Method} {route.Pattern} with {caller}: {(int)status}, expected {(int)expected}");
                }
            }
        }

        Assert.Empty(failures);
    }
}

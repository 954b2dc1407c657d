
namespace Runs.Host.Tests;

[Collection(DefaultCollection.Name)]
public sealed class TokenTests(DefaultHost fixture) : HostSpecification<DefaultHost>(fixture, "root", [Scopes.Admin])
{
    private async Task<System.Text.Json.Nodes.JsonNode> Create(object body, int status = 201, string? token = null) =>
        await (await Api.Scenario(s =>
        {
            s.Post.Json(body).ToUrl("/v1/tokens");
            s.Bearer(token ?? Token);
            s.StatusCodeShouldBe(status);
        })).Json();

    [Fact]
    public async Task A_created_token_is_shown_once_and_stored_only_as_a_hash()
    {
        var created = await Create(new { name = "ci", scopes = new[] { "runs:read", "runs:write" }, jobs = new[] { "nightly-*" } });

        var secret = (string)created["token"]!;
        Assert.StartsWith("runs_", secret);
        Assert.Equal("ci", (string)created["name"]!);
        Assert.Equal(["nightly-*"], created["jobs"]!.AsArray().Select(j => (string)j!));
        Assert.Null(created["expires_on"]);
        Assert.Null(created["last_used_on"]);

        await using var connection = new NpgsqlConnection(Fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select count(*) from runs.mt_doc_apitoken where data::text like '%' || $1 || '%'", connection)
        {
            Parameters = { new() { Value = secret["runs_".Length..] } },
        };
        Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);

        var list = await (await Api.Scenario(s => { s.Get.Url("/v1/tokens"); s.Bearer(Token); })).Json();
        var listed = list["tokens"]!.AsArray().Single(t => (string)t!["id"]! == (string)created["id"]!)!;
        Assert.False(listed.AsObject().ContainsKey("token"));
    }

    [Fact]
    public async Task A_token_works_within_its_grants_and_records_its_last_use()
    {
        var created = await Create(new { name = "ci", scopes = new[] { "runs:write", "runs:read" }, jobs = new[] { "nightly-*" } });
        var token = (string)created["token"]!;

        var run = await Api.TriggerAsync(token, job: "nightly-etl");
        Assert.Equal("ci", (string)run["created_by"]!);
        await Api.Scenario(s =>
        {
            s.Post.Json(new { }).ToUrl("/v1/jobs/weekly/runs");
            s.Bearer(token);
            s.StatusCodeShouldBe(404);
        });

        var list = await (await Api.Scenario(s => { s.Get.Url("/v1/tokens"); s.Bearer(Token); })).Json();
        var listed = list["tokens"]!.AsArray().Single(t => (string)t!["id"]! == (string)created["id"]!)!;
        Assert.NotNull(listed["last_used_on"]);
    }

    [Fact]
    public async Task A_revoked_token_is_refused_on_its_next_request()
    {
        var created = await Create(new { name = "temp", scopes = new[] { "runs:write" }, jobs = new[] { "*" } });
        var token = (string)created["token"]!;
        await Api.TriggerAsync(token);

        await Api.Scenario(s => { s.Delete.Url($"/v1/tokens/{created["id"]}"); s.Bearer(Token); s.StatusCodeShouldBe(204); });

        var refused = await Api.Scenario(s =>
        {
            s.Post.Json(new { }).ToUrl("/v1/jobs/nightly/runs");
            s.Bearer(token);
            s.StatusCodeShouldBe(401);
        });
        await refused.ProblemAsync(401);
        await Api.Scenario(s => { s.Delete.Url($"/v1/tokens/{created["id"]}"); s.Bearer(Token); s.StatusCodeShouldBe(404); });
    }

    [Fact]
    public async Task An_expired_token_is_refused()
    {
        var (token, secret) = ApiToken.Issue("old", [Scopes.RunsRead], ["*"], DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddSeconds(-1));
        await using (var session = Fixture.Store.LightweightSession())
        {
            session.Store(token);
            await session.SaveChangesAsync();
        }
        var result = await Api.Scenario(s => { s.Get.Url("/v1/tokens"); s.Bearer(secret); s.StatusCodeShouldBe(401); });
        Assert.Contains("expired", (string)(await result.ProblemAsync(401))["detail"]!);
    }

    [Fact]
    public async Task Only_admin_tokens_manage_tokens()
    {
        var writer = await Fixture.TokenAsync("writer", [Scopes.RunsWrite, Scopes.RunsRead, Scopes.WebhooksManage]);
        var result = await Api.Scenario(s => { s.Get.Url("/v1/tokens"); s.Bearer(writer); s.StatusCodeShouldBe(403); });
        await result.ProblemAsync(403);
    }

    [Fact]
    public async Task An_admin_token_limited_to_some_jobs_cannot_mint_or_revoke_beyond_them()
    {
        var teamAdmin = await Fixture.TokenAsync("team-a-admin", [Scopes.Admin], ["team-a-*"]);
        var global = await Create(new { name = "global", scopes = new[] { "runs:read" }, jobs = new[] { "*" } });

        foreach (var jobs in new[] { new[] { "*" }, ["payroll"], ["team-*"], ["team-a-x", "team-b-x"] })
        {
            var refused = await Api.Scenario(s =>
            {
                s.Post.Json(new { name = "escalated", scopes = new[] { "admin" }, jobs }).ToUrl("/v1/tokens");
                s.Bearer(teamAdmin);
                s.StatusCodeShouldBe(403);
            });
            Assert.Contains("team-a-*", (string)(await refused.ProblemAsync(403))["detail"]!);
        }
        var within = await Create(new { name = "team-a-ci", scopes = new[] { "admin" }, jobs = new[] { "team-a-*", "team-a-etl.v2*", "team-a-nightly" } }, token: teamAdmin);

        var listed = (await (await Api.Scenario(s => { s.Get.Url("/v1/tokens"); s.Bearer(teamAdmin); })).Json())["tokens"]!
            .AsArray().Select(t => (string)t!["name"]!).ToList();
        Assert.Contains("team-a-ci", listed);
        Assert.DoesNotContain("global", listed);
        Assert.DoesNotContain("root", listed);

        await Api.Scenario(s => { s.Delete.Url($"/v1/tokens/{global["id"]}"); s.Bearer(teamAdmin); s.StatusCodeShouldBe(404); });
        await Api.Scenario(s => { s.Get.Url("/v1/tokens"); s.Bearer((string)global["token"]!); s.StatusCodeShouldBe(403); });
        await Api.Scenario(s => { s.Delete.Url($"/v1/tokens/{within["id"]}"); s.Bearer(teamAdmin); s.StatusCodeShouldBe(204); });
        // The global token still works: the limited admin could not touch it.
        await Api.Scenario(s => { s.Get.Url("/v1/runs"); s.Bearer((string)global["token"]!); s.StatusCodeShouldBe(200); });
    }

    [Fact]
    public async Task A_token_cannot_mint_one_that_outlives_it()
    {
        var expiresOn = DateTimeOffset.UtcNow.AddHours(1);
        var (record, shortLived) = ApiToken.Issue("short-lived-admin", [Scopes.Admin], ["*"], DateTimeOffset.UtcNow, expiresOn);
        await using (var session = Fixture.Store.LightweightSession())
        {
            session.Store(record);
            await session.SaveChangesAsync();
        }

        await Api.Scenario(s =>
        {
            s.Post.Json(new { name = "forever", scopes = new[] { "runs:read" }, jobs = new[] { "*" }, expires_at = expiresOn.AddDays(1) }).ToUrl("/v1/tokens");
            s.Bearer(shortLived);
            s.StatusCodeShouldBe(403);
        });
        var inherited = await Create(new { name = "child", scopes = new[] { "runs:read" }, jobs = new[] { "*" } }, token: shortLived);
        Assert.Equal(expiresOn.UtcDateTime, DateTimeOffset.Parse((string)inherited["expires_on"]!).UtcDateTime, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task The_command_line_creates_a_token_that_the_service_accepts()
    {
        var (exit, output, _) = await HostCommand.RunAsync(Fixture.ConnectionString, null,
            "tokens", "create", "--name", "from-cli", "--scopes", "runs:read,runs:write", "--jobs", "cli-*");
        Assert.Equal(0, exit);

        var token = output.TrimEnd().Split('\n')[^1].Trim();
        Assert.StartsWith("runs_", token);
        var run = await Api.TriggerAsync(token, job: "cli-job");
        Assert.Equal("from-cli", (string)run["created_by"]!);
    }
}


namespace Runs.Host.Tests;

[Collection(DefaultCollection.Name)]
public sealed class LogSearchTests(DefaultHost fixture) : HostSpecification<DefaultHost>(fixture, "reader", [Scopes.RunsRead, Scopes.RunsWrite], admin: "admin")
{
    private async Task<JsonNode> RunWith(string job, params object[] lines)
    {
        var run = await Api.TriggerAsync(Token, job);
        await Api.Scenario(s =>
        {
            s.Post.Json(new { lines }).ToUrl($"{run["uri"]}/log");
            s.Bearer(Token);
        });
        return run;
    }

    private static object Info(string message) => new { level = "info", message };

    private async Task<JsonNode> Search(string query, string? token = null, string path = "/v1/logs/search", int status = 200)
    {
        var result = await Api.Scenario(s =>
        {
            s.Get.Url($"{path}?{query}");
            s.Bearer(token ?? Token);
            s.StatusCodeShouldBe(status);
        });
        return status == 200 ? await result.Json() : await result.ProblemAsync(status);
    }

    private static List<(string Run, long Line, string Message)> Found(JsonNode page) =>
        [.. page["matches"]!.AsArray().Select(m => ((string)m!["run"]!, (long)m["line"]!["id"]!, (string)m["line"]!["message"]!))];

    [Fact]
    public async Task Finds_text_in_any_letter_case_across_jobs_newest_run_first_and_lines_in_order()
    {
        var older = await RunWith("extract", Info("connecting to Warehouse"), Info("nothing here"), Info("WAREHOUSE answered"));
        var newer = await RunWith("load", Info("warehouse is slow"), Info("done with the wareHouse"));

        var page = await Search("q=wareHOUSE");

        Assert.Equal(
            [((string)newer["id"]!, 1L, "warehouse is slow"), ((string)newer["id"]!, 2L, "done with the wareHouse"),
             ((string)older["id"]!, 1L, "connecting to Warehouse"), ((string)older["id"]!, 3L, "WAREHOUSE answered")],
            Found(page));
        var first = page["matches"]![0]!;
        Assert.Equal("load", (string)first["job"]!);
        Assert.Equal("info", (string)first["line"]!["level"]!);
        Assert.NotNull(first["line"]!["at"]);
        Assert.Null(page["next_page_token"]);
    }

    [Fact]
    public async Task Percent_underscore_and_backslash_in_the_text_are_taken_literally()
    {
        await RunWith("etl", Info("100% done"), Info("100x done"), Info("row a_b"), Info("row axb"), Info(@"wrote C:\tmp\out"), Info("wrote C:tmp"));

        Assert.Equal(["100% done"], Found(await Search("q=" + Uri.EscapeDataString("0% d"))).Select(f => f.Message));
        Assert.Equal(["row a_b"], Found(await Search("q=a_b")).Select(f => f.Message));
        Assert.Equal([@"wrote C:\tmp\out"], Found(await Search("q=" + Uri.EscapeDataString(@"C:\tm"))).Select(f => f.Message));
    }

    [Fact]
    public async Task Pages_walk_every_match_once_while_new_runs_and_lines_arrive()
    {
        var a = await RunWith("etl", Info("match 1"), Info("other"), Info("match 2"), Info("match 3"));
        await RunWith("etl", Info("match 4"), Info("match 5"));
        await RunWith("etl", Info("match 6"), Info("match 7"));

        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await Search("q=match&page_size=2" + (token is null ? "" : $"&page_token={token}"));
            seen.AddRange(Found(page).Select(f => f.Message));
            token = (string?)page["next_page_token"];
            if (pages++ == 0)
            {
                // Arrivals after the first page: a newer run, which the walk has passed, and a line on a run it has not reached.
                await RunWith("etl", Info("match late run"));
                await Api.Scenario(s =>
                {
                    s.Post.Json(new { lines = new[] { Info("match 3b") } }).ToUrl($"{a["uri"]}/log");
                    s.Bearer(Token);
                });
            }
        }
        while (token is not null);

        Assert.Equal(["match 6", "match 7", "match 4", "match 5", "match 1", "match 2", "match 3", "match 3b"], seen);
        Assert.Equal(4, pages);
    }

    [Fact]
    public async Task A_token_finds_only_the_jobs_it_may_read_and_one_job_when_asked()
    {
        await RunWith("team-a-build", Info("shared needle"));
        await RunWith("team-b-build", Info("shared needle"));
        var teamA = await Fixture.TokenAsync("team-a", [Scopes.RunsRead], ["team-a-*"]);

        Assert.Equal(["team-a-build"], (await Search("q=needle", teamA))["matches"]!.AsArray().Select(m => (string)m!["job"]!));
        Assert.Equal(["team-b-build"], (await Search("q=needle", path: "/v1/jobs/team-b-build/logs/search"))["matches"]!.AsArray().Select(m => (string)m!["job"]!));
        await Search("q=needle", teamA, "/v1/jobs/team-b-build/logs/search", 404);
        await Search("q=needle", path: "/v1/jobs/no-such-job/logs/search", status: 404);
    }

    [Fact]
    public async Task Internal_lines_are_found_only_with_an_admin_token()
    {
        await RunWith("etl", Info("secret handshake public"), new { level = "info", message = "secret handshake internal", @internal = true });

        Assert.Equal(["secret handshake public"], Found(await Search("q=handshake")).Select(f => f.Message));
        Assert.Equal(["secret handshake public", "secret handshake internal"], Found(await Search("q=handshake", Admin)).Select(f => f.Message));
    }

    [Fact]
    public async Task Level_and_the_run_filter_narrow_the_search()
    {
        var failed = await RunWith("etl", new { level = "debug", message = "disk probe" }, new { level = "error", message = "disk full" });
        await Api.CommandAsync(Token, failed, "start");
        await Api.CommandAsync(Token, failed, "fail", new { error_summary = "disk" });
        await RunWith("etl", new { level = "warn", message = "disk nearly full" });

        Assert.Equal(["disk nearly full", "disk full"], Found(await Search("q=disk&level=warn")).Select(f => f.Message));
        Assert.Equal(["disk probe", "disk full"],
            Found(await Search("q=disk&filter=" + Uri.EscapeDataString("status = \"failed\""))).Select(f => f.Message));
    }

    [Fact]
    public async Task A_log_that_answers_410_is_not_searched()
    {
        var kept = await RunWith("etl", Info("archived text"));
        var expired = await RunWith("etl", Info("archived text"));
        // Expired by its event alone, its lines still stored: the search follows the run, not the table.
        await using (var session = Fixture.Store.LightweightSession())
        {
            // Fetched for writing, as every writer does: the ledger chains versioned appends only.
            var stream = await session.Events.FetchForWriting<Run>((string)expired["id"]!);
            stream.AppendOne(new RetentionExpired((string)expired["id"]!, "test", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow));
            await session.SaveChangesAsync();
        }
        await Api.Scenario(s => { s.Get.Url($"{expired["uri"]}/log"); s.Bearer(Token); s.StatusCodeShouldBe(410); });

        Assert.Equal([(string)kept["id"]!], Found(await Search("q=archived")).Select(f => f.Run));
        Assert.Equal(1L, await CountLines((string)expired["id"]!));
    }

    private async Task<long> CountLines(string run) =>
        (long)(await Fixture.SqlAsync("select count(*) from runs.log_lines where run_id = $1", run))!;

    [Fact]
    public async Task A_page_size_above_the_maximum_is_treated_as_the_maximum()
    {
        await RunWith("etl", Info("one match"));

        Assert.Single(Found(await Search("q=match&page_size=999999999999")));
    }

    [Fact]
    public async Task The_API_document_names_the_parameters_and_their_limits()
    {
        var document = await (await Api.Scenario(s => s.Get.Url("/openapi/v1.json"))).Json();

        foreach (var path in new[] { "/v1/logs/search", "/v1/jobs/{job}/logs/search" })
        {
            var parameters = document["paths"]![path]!["get"]!["parameters"]!.AsArray();
            var q = parameters.Single(p => (string)p!["name"]! == "q")!;
            Assert.True((bool)q["required"]!);
            Assert.Equal(3, (int)q["schema"]!["minLength"]!);
            Assert.Contains("1000", (string)parameters.Single(p => (string)p!["name"]! == "page_size")!["description"]!);
            Assert.Contains(parameters, p => (string)p!["name"]! == "filter");
            Assert.Contains(parameters, p => (string)p!["name"]! == "level");
            Assert.Contains(parameters, p => (string)p!["name"]! == "page_token");
        }
    }

    [Fact]
    public async Task The_index_the_search_is_made_for_is_in_the_schema()
    {
        await using var connection = new NpgsqlConnection(Fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select indexdef from pg_indexes where schemaname = 'runs' and tablename = 'log_lines' and indexname = 'log_lines_message_trgm'", connection);

        Assert.Contains("gin (message gin_trgm_ops)", (string?)await command.ExecuteScalarAsync());
    }
}

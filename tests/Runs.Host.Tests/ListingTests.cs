
namespace Runs.Host.Tests;

[Collection(DefaultCollection.Name)]
public sealed class ListingTests(DefaultHost fixture) : HostSpecification<DefaultHost>(fixture, "reader", [Scopes.RunsRead, Scopes.RunsWrite])
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private async Task<JsonNode> List(string url, string? token = null) =>
        await (await Api.Scenario(s => { s.Get.Url(url); s.Bearer(token ?? Token); })).Json();

    private static List<string> Ids(JsonNode page) => [.. page["runs"]!.AsArray().Select(r => (string)r!["id"]!)];

    [Fact]
    public async Task A_listing_is_newest_first_with_the_summary_fields()
    {
        var older = await Fixture.SeedRunAsync("etl", T0);
        var newer = await Fixture.SeedRunAsync("etl", T0.AddMinutes(1), RunStatus.Succeeded, 12.5);
        await Fixture.SeedRunAsync("other", T0.AddMinutes(2));

        var page = await List("/v1/jobs/etl/runs");

        Assert.Equal([newer, older], Ids(page));
        Assert.Equal(2, (int)page["count"]!);
        Assert.False((bool)page["has_next_page"]!);
        Assert.Null(page["next_page_token"]);
        var run = page["runs"]![0]!.AsObject();
        foreach (var field in new[] { "id", "name", "uri", "job", "status", "trigger", "source", "created_by", "created_on", "started_on", "completed_on", "last_modified", "duration", "exit_code", "has_output" })
        {
            Assert.True(run.ContainsKey(field), $"missing {field}");
        }
        Assert.Equal(12.5, (double)run["duration"]!);
        Assert.Equal($"/v1/jobs/etl/runs/{newer}", (string)run["uri"]!);
    }

    [Fact]
    public async Task Listed_runs_show_their_summary_fields_exactly_as_the_run_itself_does()
    {
        var finished = await Api.TriggerAsync(Token, "shapes", new { trigger = "schedule", source = "cli", input = new { rows = 5, nested = new[] { 1.5, 2 } } });
        await Api.CommandAsync(Token, finished, "start", new { runner = "w1" });
        await Api.Scenario(s => { s.Post.Json(new { summary = new { rows = 5, phase = "load" } }).ToUrl($"{finished["uri"]}/telemetry"); s.Bearer(Token); });
        var output = new ByteArrayContent([1, 2, 3]);
        output.Headers.ContentDisposition = new System.Net.Http.Headers.ContentDispositionHeaderValue("attachment") { FileName = "out.bin" };
        Assert.Equal(System.Net.HttpStatusCode.OK, (await Client.PutAsync($"{finished["uri"]}/output", output)).StatusCode);
        await Api.CommandAsync(Token, finished, "fail", new { error_summary = "boom", exit_code = 3 });
        var pending = await Api.TriggerAsync(Token, "shapes");

        var listed = (await List("/v1/jobs/shapes/runs"))["runs"]!.AsArray();

        Assert.Equal([(string)pending["id"]!, (string)finished["id"]!], listed.Select(r => (string)r!["id"]!));
        foreach (var entry in listed)
        {
            var run = await List((string)entry!["uri"]!);
            var fields = entry.AsObject().Select(p => p.Key).ToList();
            Assert.Equal(["id", "name", "uri", "job", "status", "trigger", "source", "created_by", "created_on", "started_on", "completed_on", "last_modified", "duration", "exit_code", "has_output"], fields);
            Assert.All(fields, f => Assert.Equal(run[f]?.ToJsonString() ?? "null", entry[f]?.ToJsonString() ?? "null"));
        }
        Assert.True((bool)listed[1]!["has_output"]!);
        Assert.Equal(3, (int)listed[1]!["exit_code"]!);
    }

    [Fact]
    public async Task Walking_pages_returns_every_run_exactly_once_while_new_runs_arrive()
    {
        var seeded = new List<string>();
        for (var i = 0; i < 25; i++)
        {
            seeded.Add(await Fixture.SeedRunAsync("walk", T0.AddSeconds(i)));
        }

        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await List($"/v1/jobs/walk/runs?page_size=7" + (token is null ? "" : $"&page_token={token}"));
            seen.AddRange(Ids(page));
            token = (string?)page["next_page_token"];
            Assert.Equal(token is not null, (bool)page["has_next_page"]!);
            await Api.TriggerAsync(Token, job: "walk");
            pages++;
        }
        while (token is not null);

        Assert.Equal(4, pages);
        Assert.Equal(Enumerable.Reverse(seeded), seen);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("ten")]
    public async Task A_bad_page_size_is_400(string size)
    {
        var result = await Api.Scenario(s => { s.Get.Url($"/v1/jobs/etl/runs?page_size={size}"); s.Bearer(Token); s.StatusCodeShouldBe(400); });
        Assert.NotNull((await result.ProblemAsync(400))["errors"]!["page_size"]);
    }

    [Fact]
    public async Task A_job_without_runs_is_404()
    {
        var result = await Api.Scenario(s => { s.Get.Url("/v1/jobs/ghost/runs"); s.Bearer(Token); s.StatusCodeShouldBe(404); });
        await result.ProblemAsync(404);
    }

    [Fact]
    public async Task A_page_size_above_1000_is_treated_as_1000_and_a_forged_token_is_400()
    {
        await Fixture.SeedRunAsync("etl", T0);
        Assert.Equal(1, (int)(await List("/v1/jobs/etl/runs?page_size=5000"))["count"]!);
        Assert.Equal(1, (int)(await List("/v1/jobs/etl/runs?page_size=99999999999999999999"))["count"]!);
        var result = await Api.Scenario(s => { s.Get.Url("/v1/jobs/etl/runs?page_token=bm9wZQ"); s.Bearer(Token); s.StatusCodeShouldBe(400); });
        await result.ProblemAsync(400);
    }

    [Fact]
    public async Task Listing_every_run_shows_only_the_jobs_the_token_may_read()
    {
        var mine = await Fixture.SeedRunAsync("nightly-a", T0);
        await Fixture.SeedRunAsync("weekly", T0.AddMinutes(1));
        var narrow = await Fixture.TokenAsync("narrow", [Scopes.RunsRead], ["nightly-*"]);

        Assert.Equal([mine], Ids(await List("/v1/runs", narrow)));
        Assert.Equal(2, Ids(await List("/v1/runs")).Count);
        await Api.Scenario(s => { s.Get.Url("/v1/jobs/weekly/runs"); s.Bearer(narrow); s.StatusCodeShouldBe(404); });
        var jobs = await List("/v1/jobs", narrow);
        Assert.Equal(["nightly-a"], jobs["jobs"]!.AsArray().Select(j => (string)j!["job"]!));
    }

    [Fact]
    public async Task Filters_support_every_operator_and_precedence()
    {
        var a = await Fixture.SeedRunAsync("f", T0, RunStatus.Failed, 30, "schedule", "cron", new Dictionary<string, string> { ["team"] = "data" });
        var b = await Fixture.SeedRunAsync("f", T0.AddHours(1), RunStatus.Succeeded, 5, "api", "cli", new Dictionary<string, string> { ["team"] = "web" });
        var c = await Fixture.SeedRunAsync("f", T0.AddHours(2), RunStatus.Running, null, "webhook", null, createdBy: "bot");
        var d = await Fixture.SeedRunAsync("f", T0.AddHours(3), RunStatus.Failed, 90, "api", "cli");

        async Task<List<string>> Where(string filter) =>
            Ids(await List($"/v1/jobs/f/runs?filter={Uri.EscapeDataString(filter)}"));

        Assert.Equal([d, a], await Where("status = \"failed\""));
        Assert.Equal([c, b], await Where("status != failed"));
        Assert.Equal([d, c], await Where($"create_time > \"{T0.AddHours(1):yyyy-MM-ddTHH:mm:ssZ}\""));
        Assert.Equal([b, a], await Where($"create_time <= {T0.AddHours(1):yyyy-MM-ddTHH:mm:ssZ}"));
        Assert.Equal([d, a], await Where("duration >= 30"));
        Assert.Equal([b], await Where("duration < 30"));
        Assert.Equal([d, b], await Where("source = \"cli\""));
        Assert.Equal([c], await Where("created_by = \"bot\""));
        Assert.Equal([a], await Where("labels.team = \"data\""));
        Assert.Equal([c], await Where("trigger = webhook"));
        Assert.Equal([d, b, a], await Where($"end_time < \"{T0.AddDays(1):yyyy-MM-ddTHH:mm:ssZ}\""));
        Assert.Equal([c], await Where($"start_time > \"{T0.AddHours(2):yyyy-MM-ddTHH:mm:ssZ}\" AND NOT end_time > \"2000-01-01T00:00:00Z\""));
        Assert.Equal([d, a], await Where("status = failed OR status = running AND trigger = api"));
        Assert.Equal([d, c, a], await Where("(status = failed OR status = running) AND -source = \"cli\" OR duration > 60"));
        Assert.Equal([d, b], await Where("NOT trigger = schedule AND -trigger = webhook"));
        Assert.Equal([a], await Where("status = failed trigger = schedule"));
        Assert.Equal([d, c, b, a], await Where("job = \"f\""));
    }

    [Theory]
    [InlineData("status =", 9)]
    [InlineData("colour = \"red\"", 1)]
    [InlineData("status = \"failed\" AND", 22)]
    [InlineData("(status = failed", 17)]
    [InlineData("status = \"done\"", 1)]
    [InlineData("create_time > yesterday", 1)]
    [InlineData("duration > \"long\"", 1)]
    [InlineData("status = \"failed", 10)]
    [InlineData("status failed", 8)]
    public async Task Bad_filters_are_400_with_the_position(string filter, int position)
    {
        var result = await Api.Scenario(s =>
        {
            s.Get.Url($"/v1/jobs/f/runs?filter={Uri.EscapeDataString(filter)}");
            s.Bearer(Token);
            s.StatusCodeShouldBe(400);
        });
        var problem = await result.ProblemAsync(400);
        Assert.Equal(position, (int)problem["position"]!);
        Assert.NotNull(problem["errors"]!["filter"]);
    }

    public static TheoryData<string> DeepFilters => new()
    {
        new string('-', 1500) + "status = \"failed\"",
        string.Concat(Enumerable.Repeat("NOT ", 400)) + "status = \"failed\"",
        new string('(', 200) + "status = \"failed\"" + new string(')', 200),
        string.Join(" ", Enumerable.Repeat("job=\"a\"", 101)),
    };

    [Theory]
    [MemberData(nameof(DeepFilters))]
    public async Task Filters_nested_too_deep_or_too_long_are_400_not_sent_to_the_database(string filter)
    {
        var result = await Api.Scenario(s =>
        {
            s.Get.Url($"/v1/runs?filter={Uri.EscapeDataString(filter)}");
            s.Bearer(Token);
            s.StatusCodeShouldBe(400);
        });
        var problem = await result.ProblemAsync(400);
        Assert.Matches("more than (32 deep|100 comparisons)", (string)problem["errors"]!["filter"]![0]!);
    }

    [Fact]
    public async Task Statuses_are_stored_by_the_names_clients_filter_by_and_runs_stored_with_the_old_names_are_renamed_at_start()
    {
        var current = await Fixture.SeedRunAsync("renamed", T0, RunStatus.Failed, 3);
        var old = await Fixture.SeedRunAsync("renamed", T0.AddMinutes(1), RunStatus.Failed, 4);
        const string stored = "select status || ' ' || (data ->> 'status') from runs.mt_doc_run where id = $1";
        Assert.Equal("failed failed", await Fixture.SqlAsync(stored, current));
        // As a run was stored before statuses were stored by their names: the enum's C# name in both places.
        await Fixture.SqlAsync("update runs.mt_doc_run set status = 'Failed', data = jsonb_set(data, '{status}', '\"Failed\"') where id = $1", old);
        var failed = $"/v1/jobs/renamed/runs?filter={Uri.EscapeDataString("status = \"failed\"")}";
        Assert.Equal([current], Ids(await List(failed)));

        // What the host runs at start, after Marten has applied the schema.
        await new global::Runs.Projections.Storage.StoredStatusNames().Populate(Fixture.Store, CancellationToken.None);

        Assert.Equal("failed failed", await Fixture.SqlAsync(stored, old));
        Assert.Equal([old, current], Ids(await List(failed)));
        Assert.Equal("failed", (string)(await List($"/v1/jobs/renamed/runs/{old}"))["status"]!);
    }
}

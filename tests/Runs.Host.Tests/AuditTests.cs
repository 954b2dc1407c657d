using System.Globalization;
using System.Text.RegularExpressions;

namespace Runs.Host.Tests;

[Collection(DefaultCollection.Name)]
public sealed class AuditTests(DefaultHost fixture) : HostSpecification<DefaultHost>(fixture, "auditor", [Scopes.RunsRead, Scopes.RunsWrite])
{
    private async Task<JsonNode> Get(string url, int status = 200) =>
        await (await Api.Scenario(s => { s.Get.Url(url); s.Bearer(Token); s.StatusCodeShouldBe(status); })).Json();

    private async Task<JsonNode> RunWithHistory()
    {
        var run = await Api.TriggerAsync(Token);
        await Api.CommandAsync(Token, run, "start", new { runner = "w1" });
        await Api.Scenario(s => { s.Post.Json(new { lines = new[] { new { level = "info", message = "hello" } } }).ToUrl($"{run["uri"]}/log"); s.Bearer(Token); });
        await Api.CommandAsync(Token, run, "pause", new { reason = "lunch" });
        await Api.CommandAsync(Token, run, "continue");
        await Api.CommandAsync(Token, run, "succeed", new { exit_code = 0 });
        return run;
    }

    [Fact]
    public async Task The_event_history_is_oldest_first_with_types_versions_and_metadata()
    {
        var run = await RunWithHistory();

        var page = await Get($"{run["uri"]}/events");
        var events = page["events"]!.AsArray();

        Assert.Equal(["Triggered", "Started", "LogAppended", "Paused", "Resumed", "Succeeded"], events.Select(e => (string)e!["type"]!));
        Assert.Equal([1, 2, 3, 4, 5, 6], events.Select(e => (int)e!["version"]!));
        Assert.True(events.Select(e => (long)e!["sequence"]!).SequenceEqual(events.Select(e => (long)e!["sequence"]!).Order()));
        Assert.Equal("w1", (string)events[1]!["data"]!["runner"]!);
        Assert.Equal("auditor", (string)events[0]!["metadata"]!["user"]!);
        Assert.False(string.IsNullOrEmpty((string?)events[0]!["metadata"]!["correlation_id"]));
        Assert.False(string.IsNullOrEmpty((string?)events[0]!["metadata"]!["causation_id"]));
        Assert.Matches(@"Z$", (string)events[0]!["timestamp"]!);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", (string)events[1]!["data"]!["at"]!);
        Assert.Null(page["next_page_token"]);
    }

    [Fact]
    public async Task Event_pages_are_stable_and_can_be_filtered_by_type()
    {
        var run = await RunWithHistory();

        var versions = new List<int>();
        string? token = null;
        do
        {
            var page = await Get($"{run["uri"]}/events?page_size=4" + (token is null ? "" : $"&page_token={token}"));
            versions.AddRange(page["events"]!.AsArray().Select(e => (int)e!["version"]!));
            token = (string?)page["next_page_token"];
        }
        while (token is not null);
        Assert.Equal([1, 2, 3, 4, 5, 6], versions);

        var filtered = await Get($"{run["uri"]}/events?filter={Uri.EscapeDataString("type = \"Paused\" OR type = \"Resumed\"")}");
        Assert.Equal(["Paused", "Resumed"], filtered["events"]!.AsArray().Select(e => (string)e!["type"]!));
        var negated = await Get($"{run["uri"]}/events?filter={Uri.EscapeDataString("NOT type = \"LogAppended\"")}");
        Assert.Equal(5, negated["events"]!.AsArray().Count);
    }

    [Fact]
    public async Task The_state_at_a_version_is_the_run_as_it_stood_then()
    {
        var run = await RunWithHistory();

        var first = await Get($"{run["uri"]}/state?version=1");
        var paused = await Get($"{run["uri"]}/state?version=4");
        var last = await Get($"{run["uri"]}/state?version=6");

        Assert.Equal(("pending", 1), ((string)first["status"]!, (int)first["version"]!));
        Assert.Equal(("paused", "lunch"), ((string)paused["status"]!, (string)paused["paused_reason"]!));
        Assert.Equal(1, (int)paused["log_lines"]!);
        Assert.Equal("succeeded", (string)last["status"]!);
        var problem = await (await Api.Scenario(s => { s.Get.Url($"{run["uri"]}/state?version=7"); s.Bearer(Token); s.StatusCodeShouldBe(404); })).ProblemAsync(404);
        Assert.Contains("6 events", (string)problem["detail"]!);
    }

    [Fact]
    public async Task The_state_at_a_time_folds_the_events_recorded_by_then()
    {
        var run = await Api.TriggerAsync(Token);
        Api.AdvanceClock(TimeSpan.FromMilliseconds(300));
        var between = Api.Now();
        Api.AdvanceClock(TimeSpan.FromMilliseconds(300));
        await Api.CommandAsync(Token, run, "start");

        var then = await Get($"{run["uri"]}/state?at={Uri.EscapeDataString(between.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture))}");
        var now = await Get($"{run["uri"]}/state?at={Uri.EscapeDataString(Api.Now().AddSeconds(5).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture))}");

        Assert.Equal("pending", (string)then["status"]!);
        Assert.Equal("running", (string)now["status"]!);
        // A time before the run names the first time that finds it.
        var before = (string)(await Get($"{run["uri"]}/state?at=2001-01-01T00:00:00Z", 404))["detail"]!;
        var by = Regex.Match(before, @"it was by (\S+Z)\.$").Groups[1].Value;
        Assert.Equal("pending", (string)(await Get($"{run["uri"]}/state?at={by}"))["status"]!);
        var justBefore = DateTimeOffset.Parse(by, CultureInfo.InvariantCulture).AddMilliseconds(-1).UtcDateTime;
        await Get($"{run["uri"]}/state?at={justBefore.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}", 404);
    }

    [Theory]
    [InlineData("")]
    [InlineData("?version=0")]
    [InlineData("?version=abc")]
    [InlineData("?at=yesterday")]
    [InlineData("?version=1&at=2026-01-01T00:00:00Z")]
    public async Task Bad_state_queries_are_400(string query)
    {
        var run = await Api.TriggerAsync(Token);
        var result = await Api.Scenario(s => { s.Get.Url($"{run["uri"]}/state{query}"); s.Bearer(Token); s.StatusCodeShouldBe(400); });
        await result.ProblemAsync(400);
    }

    [Fact]
    public async Task Rebuilding_the_projections_gives_identical_documents()
    {
        await RunWithHistory();
        var failed = await Api.TriggerAsync(Token, job: "other");
        await Api.CommandAsync(Token, failed, "start");
        await Api.Scenario(s => { s.Post.Json(new { samples = new[] { new { cpu = 1 } }, summary = new { rows = 3 } }).ToUrl($"{failed["uri"]}/telemetry"); s.Bearer(Token); });
        await Api.CommandAsync(Token, failed, "fail", new { error_summary = "boom" });

        async Task<List<string>> Snapshot()
        {
            await using var session = Fixture.Store.QuerySession();
            var runs = await session.Query<Run>().OrderBy(r => r.Id).ToListAsync();
            var telemetry = await session.Query<TelemetrySeries>().OrderBy(t => t.Id).ToListAsync();
            return [.. runs.Select(r => Fixture.Store.Options.Serializer().ToJson(r)), .. telemetry.Select(t => Fixture.Store.Options.Serializer().ToJson(t))];
        }

        var before = await Snapshot();
        await using (var session = Fixture.Store.LightweightSession())
        {
            session.DeleteWhere<Run>(_ => true);
            session.DeleteWhere<TelemetrySeries>(_ => true);
            await session.SaveChangesAsync();
        }
        Assert.Empty(await Snapshot());

        using var daemon = await Fixture.Store.BuildProjectionDaemonAsync();
        await daemon.RebuildProjectionAsync<RunProjection>(CancellationToken.None);
        await daemon.RebuildProjectionAsync<TelemetryProjection>(CancellationToken.None);

        Assert.Equal(before, await Snapshot());
    }
}

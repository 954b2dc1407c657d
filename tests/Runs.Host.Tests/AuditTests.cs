
namespace Runs.Host.Tests;

[Collection(DefaultCollection.Name)]
public sealed class AuditTests(DefaultHost fixture) : IAsyncLifetime
{
    private readonly IAlbaHost _host = fixture.Host;
    private string _token = "";

    public async Task InitializeAsync()
    {
        await fixture.ResetAsync();
        _token = await fixture.TokenAsync("auditor", [Scopes.RunsRead, Scopes.RunsWrite]);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<JsonNode> Get(string url, int status = 200) =>
        await (await _host.Scenario(s => { s.Get.Url(url); s.Bearer(_token); s.StatusCodeShouldBe(status); })).Json();

    private async Task<JsonNode> RunWithHistory()
    {
        var run = await _host.TriggerAsync(_token);
        await _host.CommandAsync(_token, run, "start", new { runner = "w1" });
        await _host.Scenario(s => { s.Post.Json(new { lines = new[] { new { level = "info", message = "hello" } } }).ToUrl($"{run["uri"]}/log"); s.Bearer(_token); });
        await _host.CommandAsync(_token, run, "pause", new { reason = "lunch" });
        await _host.CommandAsync(_token, run, "continue");
        await _host.CommandAsync(_token, run, "succeed", new { exit_code = 0 });
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

    [Theory]
    [InlineData("?page_size=0", "page_size")]
    [InlineData("?page_size=-1", "page_size")]
    [InlineData("?page_token=garbage", "page_token")]
    [InlineData("?filter=type%20%3D%20%22Exploded%22", "filter")]
    [InlineData("?filter=status%20%3D%20failed", "filter")]
    public async Task Bad_event_queries_are_400(string query, string field)
    {
        var run = await _host.TriggerAsync(_token);
        var result = await _host.Scenario(s => { s.Get.Url($"{run["uri"]}/events{query}"); s.Bearer(_token); s.StatusCodeShouldBe(400); });
        Assert.NotNull((await result.ProblemAsync(400))["errors"]![field]);
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
        var problem = await (await _host.Scenario(s => { s.Get.Url($"{run["uri"]}/state?version=7"); s.Bearer(_token); s.StatusCodeShouldBe(404); })).ProblemAsync(404);
        Assert.Contains("6 events", (string)problem["detail"]!);
    }

    [Fact]
    public async Task The_state_at_a_time_folds_the_events_recorded_by_then()
    {
        var run = await _host.TriggerAsync(_token);
        _host.AdvanceClock(TimeSpan.FromMilliseconds(300));
        var between = _host.Now();
        _host.AdvanceClock(TimeSpan.FromMilliseconds(300));
        await _host.CommandAsync(_token, run, "start");

        var then = await Get($"{run["uri"]}/state?at={Uri.EscapeDataString(between.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"))}");
        var now = await Get($"{run["uri"]}/state?at={Uri.EscapeDataString(_host.Now().AddSeconds(5).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"))}");

        Assert.Equal("pending", (string)then["status"]!);
        Assert.Equal("running", (string)now["status"]!);
        await Get($"{run["uri"]}/state?at=2001-01-01T00:00:00Z", 404);
    }

    [Theory]
    [InlineData("")]
    [InlineData("?version=0")]
    [InlineData("?version=abc")]
    [InlineData("?at=yesterday")]
    [InlineData("?version=1&at=2026-01-01T00:00:00Z")]
    public async Task Bad_state_queries_are_400(string query)
    {
        var run = await _host.TriggerAsync(_token);
        var result = await _host.Scenario(s => { s.Get.Url($"{run["uri"]}/state{query}"); s.Bearer(_token); s.StatusCodeShouldBe(400); });
        await result.ProblemAsync(400);
    }

    [Fact]
    public async Task Rebuilding_the_projections_gives_identical_documents()
    {
        await RunWithHistory();
        var failed = await _host.TriggerAsync(_token, job: "other");
        await _host.CommandAsync(_token, failed, "start");
        await _host.Scenario(s => { s.Post.Json(new { samples = new[] { new { cpu = 1 } }, summary = new { rows = 3 } }).ToUrl($"{failed["uri"]}/telemetry"); s.Bearer(_token); });
        await _host.CommandAsync(_token, failed, "fail", new { error_summary = "boom" });

        async Task<List<string>> Snapshot()
        {
            await using var session = fixture.Store.QuerySession();
            var runs = await session.Query<Run>().OrderBy(r => r.Id).ToListAsync();
            var telemetry = await session.Query<TelemetrySeries>().OrderBy(t => t.Id).ToListAsync();
            return [.. runs.Select(r => fixture.Store.Options.Serializer().ToJson(r)), .. telemetry.Select(t => fixture.Store.Options.Serializer().ToJson(t))];
        }

        var before = await Snapshot();
        await using (var session = fixture.Store.LightweightSession())
        {
            session.DeleteWhere<Run>(_ => true);
            session.DeleteWhere<TelemetrySeries>(_ => true);
            await session.SaveChangesAsync();
        }
        Assert.Empty(await Snapshot());

        using var daemon = await fixture.Store.BuildProjectionDaemonAsync();
        await daemon.RebuildProjectionAsync<RunProjection>(CancellationToken.None);
        await daemon.RebuildProjectionAsync<TelemetryProjection>(CancellationToken.None);

        Assert.Equal(before, await Snapshot());
    }
}

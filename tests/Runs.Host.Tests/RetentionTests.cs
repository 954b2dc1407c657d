
namespace Runs.Host.Tests;

[Collection(RetentionCollection.Name)]
public sealed class RetentionTests(RetentionHost fixture) : HostSpecification<RetentionHost>(fixture, "runner", [Scopes.RunsRead, Scopes.RunsWrite])
{
    private RetentionSweep Sweep => Api.Services.GetRequiredService<RetentionSweep>();

    /// <summary>A finished run with log lines (one an error), an input file and an output.</summary>
    private async Task<JsonNode> RunWithData(string job = "etl", string end = "succeed")
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent("{\"source\":\"test\"}"), "run" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes("INPUT-SECRET-BYTES")), "files", "in.txt" },
        };
        var run = JsonNode.Parse(await (await Client.PostAsync($"/v1/jobs/{job}/runs", form)).Content.ReadAsStringAsync())!;
        await Api.CommandAsync(Token, run, "start");
        await Api.Scenario(s =>
        {
            s.Post.Json(new { lines = new[] { new { level = "info", message = "LOG-TEXT-ONE" }, new { level = "error", message = "LOG-TEXT-ERROR" } } }).ToUrl($"{run["uri"]}/log");
            s.Bearer(Token);
        });
        var output = new ByteArrayContent(Encoding.UTF8.GetBytes("OUTPUT-BYTES"));
        output.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = "out.txt" };
        output.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        await Client.PutAsync($"{run["uri"]}/output", output);
        await Api.CommandAsync(Token, run, end, end == "fail" ? new { error_summary = "it broke" } : null);
        return run;
    }

    private async Task<long> Count(string sql, params object[] args) => (long)(await Fixture.SqlAsync(sql, args))!;

    [Fact]
    public async Task A_finished_run_shows_when_it_expires_and_a_running_one_never_does()
    {
        var running = await Api.TriggerAsync(Token);
        await Api.CommandAsync(Token, running, "start");
        var done = await Api.TriggerAsync(Token);
        await Api.CommandAsync(Token, done, "cancel");

        var r = JsonNode.Parse(await Client.GetStringAsync((string)running["uri"]!))!;
        var d = JsonNode.Parse(await Client.GetStringAsync((string)done["uri"]!))!;
        Assert.Null(r["retention"]!["expires_on"]);
        Assert.False((bool)r["retention"]!["expired"]!);
        Assert.Equal(
            DateTimeOffset.Parse((string)d["completed_on"]!).AddSeconds(1),
            DateTimeOffset.Parse((string)d["retention"]!["expires_on"]!));
    }

    [Fact]
    public async Task After_expiry_logs_input_and_output_are_gone_and_everything_else_stays()
    {
        var run = await RunWithData();
        var events = JsonNode.Parse(await Client.GetStringAsync($"{run["uri"]}/events"))!["events"]!.AsArray().Count;
        Api.AdvanceClock(TimeSpan.FromSeconds(1.2));

        var purged = await Sweep.SweepAsync();

        Assert.Contains(purged, p => p.Id == (string)run["id"]!);
        foreach (var path in new[] { "/log", "/log/stream", "/output", "/input/in.txt" })
        {
            var gone = await Client.GetAsync($"{run["uri"]}{path}");
            Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
            var problem = JsonNode.Parse(await gone.Content.ReadAsStringAsync())!;
            Assert.NotNull(problem["expired_on"]);
            Assert.Contains("Runs:Retention:Default", (string)problem["policy"]!);
        }
        Assert.Equal(HttpStatusCode.Gone, (await Client.GetAsync("/v1/jobs/etl/log")).StatusCode);

        var read = JsonNode.Parse(await Client.GetStringAsync((string)run["uri"]!))!;
        Assert.True((bool)read["retention"]!["expired"]!);
        Assert.Equal("succeeded", (string)read["status"]!);
        Assert.Empty(read["last_error_lines"]!.AsArray());
        Assert.Equal("succeeded\n", await Client.GetStringAsync($"{run["uri"]}/status"));
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync($"{run["uri"]}/stats")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/v1/jobs/etl/stats/runs")).StatusCode);
        var history = JsonNode.Parse(await Client.GetStringAsync($"{run["uri"]}/events"))!["events"]!.AsArray();
        Assert.Equal(events + 1, history.Count);
        Assert.Equal("RetentionExpired", (string)history[^1]!["type"]!);
        var logEvent = history.Single(e => (string)e!["type"]! == "LogAppended")!;
        Assert.Matches("^[0-9a-f]{64}$", (string)logEvent["data"]!["sha256"]!);

        foreach (var text in new[] { "LOG-TEXT-ONE", "LOG-TEXT-ERROR" })
        {
            Assert.Equal(0, await Count(
                "select (select count(*) from runs.log_lines where message like $1) + (select count(*) from runs.mt_events where data::text like $1) + (select count(*) from runs.mt_doc_run where data::text like $1)",
                $"%{text}%"));
        }
        Assert.Equal(0, await Count("select count(*) from runs.run_files where run_id = $1", (string)run["id"]!));
        Assert.Equal(0, await Count("select count(*) from runs.run_file_chunks where position('INPUT-SECRET-BYTES'::bytea in data) > 0 or position('OUTPUT-BYTES'::bytea in data) > 0"));
    }

    [Fact]
    public async Task Per_outcome_and_per_job_periods_apply_and_running_runs_are_untouched()
    {
        var failed = await RunWithData(end: "fail");
        var longKept = await RunWithData(job: "keep-long");
        var running = await Api.TriggerAsync(Token);
        await Api.CommandAsync(Token, running, "start");
        Api.AdvanceClock(TimeSpan.FromSeconds(1.2));

        var purged = await Sweep.SweepAsync();

        Assert.DoesNotContain(purged, p => p.Id == (string)failed["id"]! || p.Id == (string)longKept["id"]! || p.Id == (string)running["id"]!);
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync($"{failed["uri"]}/log")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync($"{longKept["uri"]}/output")).StatusCode);
        var failedRun = JsonNode.Parse(await Client.GetStringAsync((string)failed["uri"]!))!;
        Assert.Equal(DateTimeOffset.Parse((string)failedRun["completed_on"]!).AddDays(1), DateTimeOffset.Parse((string)failedRun["retention"]!["expires_on"]!));
        var kept = JsonNode.Parse(await Client.GetStringAsync((string)longKept["uri"]!))!;
        Assert.Equal(DateTimeOffset.Parse((string)kept["completed_on"]!).AddDays(10), DateTimeOffset.Parse((string)kept["retention"]!["expires_on"]!));
    }

    [Fact]
    public async Task Sweeping_twice_changes_nothing_the_second_time()
    {
        await RunWithData();
        Api.AdvanceClock(TimeSpan.FromSeconds(1.2));

        Assert.Single(await Sweep.SweepAsync());
        var events = await Count("select count(*) from runs.mt_events");
        Assert.Empty(await Sweep.SweepAsync());
        Assert.Equal(events, await Count("select count(*) from runs.mt_events"));
    }

    [Fact]
    public async Task A_sweep_stopped_midway_is_completed_by_the_next()
    {
        var first = await RunWithData();
        var second = await RunWithData();
        Api.AdvanceClock(TimeSpan.FromSeconds(1.2));

        var partial = await Sweep.SweepAsync(maxRuns: 1);
        Assert.Single(partial);
        var rest = await Sweep.SweepAsync();

        Assert.Equal(
            new[] { (string)first["id"]!, (string)second["id"]! }.Order(),
            partial.Concat(rest).Select(p => p.Id).Order());
        Assert.Equal(0, await Count("select count(*) from runs.log_lines"));
    }

    private static readonly TimeSpan CommandRetention = TimeSpan.FromSeconds(1);

    private async Task<(int Exit, string Output)> Cli(params string[] args)
    {
        var (exit, output, _) = await HostCommand.RunAsync(Fixture.ConnectionString, new Dictionary<string, string?>
        {
            ["Runs__Retention__Default"] = CommandRetention.ToString(),
            ["Runs__Retention__ByOutcome__failed"] = "1.00:00:00",
        }, args);
        return (exit, output);
    }

    [Fact]
    public async Task The_command_line_shows_a_runs_retention_and_sweeps_with_a_dry_run_first()
    {
        var run = await RunWithData();
        // The command reads the system's clock, which the host's runs ahead of (other tests advance it): it sweeps
        // once the system's time has passed the run's expiry.
        var expires = Api.Now() + CommandRetention;
        for (var left = expires - DateTimeOffset.UtcNow; left >= TimeSpan.Zero; left = expires - DateTimeOffset.UtcNow)
        {
            await Task.Delay(left + TimeSpan.FromMilliseconds(1));
        }

        var (showExit, shown) = await Cli("retention", "show", (string)run["id"]!);
        Assert.Equal(0, showExit);
        Assert.Contains("Runs:Retention:Default", shown);
        Assert.Contains("expired:    no", shown);

        var (dryExit, dry) = await Cli("retention", "sweep", "--dry-run");
        Assert.Equal(0, dryExit);
        Assert.Contains((string)run["id"]!, dry);
        Assert.Contains("1 runs would be purged", dry);
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync($"{run["uri"]}/log")).StatusCode);

        var (sweepExit, swept) = await Cli("retention", "sweep");
        Assert.Equal(0, sweepExit);
        Assert.Contains("1 runs purged", swept);
        Assert.Equal(HttpStatusCode.Gone, (await Client.GetAsync($"{run["uri"]}/log")).StatusCode);
    }

    [Fact]
    public async Task Writing_output_to_an_expired_run_is_410()
    {
        var run = await RunWithData();
        Api.AdvanceClock(TimeSpan.FromSeconds(1.2));
        await Sweep.SweepAsync();

        var output = new ByteArrayContent([1]);
        output.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = "again.bin" };
        Assert.Equal(HttpStatusCode.Gone, (await Client.PutAsync($"{run["uri"]}/output", output)).StatusCode);
    }
}


namespace Runs.Host.Tests;

/// <summary>
/// A run's chain and content, checked by <c>GET .../verify</c>: what the service wrote verifies, and every kind
/// of change made behind its back — straight in PostgreSQL — is found and named.
/// </summary>
[Collection(LedgerCollection.Name)]
public sealed class VerifyTests(LedgerHost fixture) : HostSpecification<LedgerHost>(fixture, "auditor", [Scopes.RunsRead, Scopes.RunsWrite])
{
    /// <summary>
    /// Events: 1 Triggered (an input file), 2 Started, 3 LogAppended (lines 1–3, line 2 an error),
    /// 4 OutputAttached (out.txt), 5 Succeeded.
    /// </summary>
    private async Task<JsonNode> RunWithEverything()
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent("{\"source\":\"test\",\"input\":{\"rows\":1.50,\"big\":1E3}}"), "run" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes("input bytes")), "files", "in.txt" },
        };
        var created = await Client.PostAsync("/v1/jobs/audited/runs", form);
        var run = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        Assert.True(created.IsSuccessStatusCode, run.ToJsonString());
        await Api.CommandAsync(Token, run, "start", new { runner = "w1" });
        await Api.Scenario(s =>
        {
            s.Post.Json(new
            {
                lines = new object[]
                {
                    new { level = "info", message = "starting" },
                    new { level = "error", message = "disk nearly full" },
                    new { level = "info", message = "done", at = "2026-06-13T08:15:02.1234567+02:00" },
                },
            }).ToUrl($"{run["uri"]}/log");
            s.Bearer(Token);
        });
        var output = new ByteArrayContent(Encoding.UTF8.GetBytes("output bytes"));
        output.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = "out.txt" };
        output.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        Assert.True((await Client.PutAsync($"{run["uri"]}/output", output)).IsSuccessStatusCode);
        await Api.CommandAsync(Token, run, "succeed", new { exit_code = 0 });
        return run;
    }

    private async Task<JsonNode> Verify(JsonNode run) => JsonNode.Parse(await Client.GetStringAsync($"{run["uri"]}/verify"))!;

    private Task Sql(string sql, params object[] args) => Fixture.SqlAsync(sql, args);

    [Fact]
    public async Task A_run_as_written_verifies_and_every_event_carries_its_link()
    {
        var run = await RunWithEverything();

        var verification = await Verify(run);
        var events = JsonNode.Parse(await Client.GetStringAsync($"{run["uri"]}/events"))!["events"]!.AsArray();

        Assert.True((bool)verification["verified"]!, verification.ToJsonString());
        Assert.Empty(verification["problems"]!.AsArray());
        Assert.Equal((string)run["id"]!, (string)verification["run"]!);
        Assert.Equal((5, 3, 2), ((int)verification["events"]!, (int)verification["log_lines"]!, (int)verification["files"]!));
        Assert.Equal((string)events[^1]!["hash"]!, (string)verification["head"]!);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", (string)verification["checked_on"]!);
        Assert.Null(events[0]!["previous_hash"]);
        for (var i = 0; i < events.Count; i++)
        {
            Assert.Matches("^[0-9a-f]{64}$", (string)events[i]!["hash"]!);
            if (i > 0)
            {
                Assert.Equal((string)events[i - 1]!["hash"]!, (string)events[i]!["previous_hash"]!);
            }
        }
    }

    public static TheoryData<string, string, int?, int?, string?> Tampering => new()
    {
        // An event's data, time, metadata or type.
        { "update runs.mt_events set data = jsonb_set(data, '{runner}', '\"someone else\"') where stream_id = $1 and version = 2", "event_changed", 2, null, null },
        { "update runs.mt_events set timestamp = timestamp + interval '1 minute' where stream_id = $1 and version = 5", "event_changed", 5, null, null },
        { "update runs.mt_events set user_name = 'mallory' where stream_id = $1 and version = 1", "event_changed", 1, null, null },
        { "update runs.mt_events set correlation_id = 'other' where stream_id = $1 and version = 4", "event_changed", 4, null, null },
        { "update runs.mt_events set type = 'failed' where stream_id = $1 and version = 5", "event_changed", 5, null, null },
        { "update runs.mt_events set data = jsonb_set(data, '{input,rows}', '2') where stream_id = $1 and version = 1", "event_changed", 1, null, null },
        // An event removed or inserted.
        { "delete from runs.mt_events where stream_id = $1 and version = 2", "event_removed", 2, null, null },
        { "delete from runs.mt_events where stream_id = $1 and version = 5", "event_removed", 5, null, null },
        {
            "insert into runs.mt_events (seq_id, id, stream_id, version, data, type, timestamp, tenant_id, mt_dotnet_type, is_archived) " +
            "select nextval('runs.mt_events_sequence'), gen_random_uuid(), stream_id, 6, data, type, timestamp, tenant_id, mt_dotnet_type, false " +
            "from runs.mt_events where stream_id = $1 and version = 5", "event_inserted", 6, null, null
        },
        // A log line's text, level or time; a line removed or added; the error lines an event carries.
        { "update runs.log_lines set message = 'all is well' where run_id = $1 and line_id = 2", "log_line_changed", 3, null, null },
        { "update runs.log_lines set level = 1 where run_id = $1 and line_id = 2", "log_line_changed", 3, null, null },
        { "update runs.log_lines set at = at + interval '1 millisecond' where run_id = $1 and line_id = 3", "log_line_changed", 3, null, null },
        { "delete from runs.log_lines where run_id = $1 and line_id = 2", "log_line_removed", 3, 2, null },
        { "insert into runs.log_lines (run_id, line_id, at, level, message, internal) values ($1, 4, now(), 1, 'afterthought', false)", "log_line_inserted", null, 4, null },
        { "update runs.mt_events set data = jsonb_set(data, '{error_lines}', '[\"forged\"]') where stream_id = $1 and version = 3", "error_lines_changed", 3, null, null },
        // A stored file's bytes or description; a file removed.
        { "update runs.run_file_chunks set data = 'forged bytes'::bytea where blob_id = (select blob_id from runs.run_files where run_id = $1 and kind = 'output')", "file_changed", null, null, "out.txt" },
        { "update runs.run_files set content_type = 'application/x-forged' where run_id = $1 and kind = 'input'", "file_changed", null, null, "in.txt" },
        { "delete from runs.run_files where run_id = $1 and kind = 'input'", "file_removed", null, null, "in.txt" },
    };

    [Theory]
    [MemberData(nameof(Tampering))]
    public async Task A_change_behind_the_services_back_is_found_and_named(string sql, string kind, int? version, int? line, string? file)
    {
        var run = await RunWithEverything();
        var untouched = await RunWithEverything();
        Assert.True((bool)(await Verify(run))["verified"]!);

        await Sql(sql, (string)run["id"]!);

        var verification = await Verify(run);
        Assert.False((bool)verification["verified"]!);
        var problem = Assert.Single(verification["problems"]!.AsArray())!;
        Assert.Equal(kind, (string)problem["kind"]!);
        Assert.Equal((string)run["id"]!, (string)problem["run"]!);
        Assert.Equal(version, (int?)problem["version"]);
        Assert.Equal(line, (int?)problem["line_id"]);
        Assert.Equal(file, (string?)problem["file"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)problem["detail"]));
        Assert.True((bool)(await Verify(untouched))["verified"]!);
    }

    [Fact]
    public async Task Editing_the_chain_itself_is_found()
    {
        var run = await RunWithEverything();

        await Sql("update runs.ledger_events set previous_hash = repeat('0', 64) where run_id = $1 and version = 3", (string)run["id"]!);

        var problems = (await Verify(run))["problems"]!.AsArray();
        Assert.Contains(problems, p => (string)p!["kind"]! == "chain_broken" && (int)p["version"]! == 3);
    }

    [Fact]
    public async Task A_purged_run_still_verifies_and_its_content_can_no_longer_come_back()
    {
        var run = await RunWithEverything();
        var before = JsonNode.Parse(await Client.GetStringAsync($"{run["uri"]}/events"))!["events"]!.AsArray();
        Api.AdvanceClock(TimeSpan.FromSeconds(1.2));

        var purged = await Api.Services.GetRequiredService<RetentionSweep>().SweepAsync();
        Assert.Contains(purged, p => p.Id == (string)run["id"]!);

        var verification = await Verify(run);
        var after = JsonNode.Parse(await Client.GetStringAsync($"{run["uri"]}/events"))!["events"]!.AsArray();
        Assert.True((bool)verification["verified"]!, verification.ToJsonString());
        Assert.Equal((0, 0), ((int)verification["log_lines"]!, (int)verification["files"]!));
        Assert.Equal(before.Select(e => (string)e!["hash"]!), after.Take(before.Count).Select(e => (string)e!["hash"]!));
        Assert.Equal("RetentionExpired", (string)after[^1]!["type"]!);
        Assert.Equal((string)after[^1]!["hash"]!, (string)verification["head"]!);

        await Sql("insert into runs.log_lines (run_id, line_id, at, level, message, internal) values ($1, 2, now(), 3, 'disk nearly full', false)", (string)run["id"]!);
        var problem = Assert.Single((await Verify(run))["problems"]!.AsArray())!;
        Assert.Equal(("log_line_inserted", 2), ((string)problem["kind"]!, (int)problem["line_id"]!));
    }

    [Fact]
    public async Task Rebuilding_the_projections_leaves_the_chain_as_it_was()
    {
        var run = await RunWithEverything();
        var before = await Client.GetStringAsync($"{run["uri"]}/events");

        using var daemon = await Fixture.Store.BuildProjectionDaemonAsync();
        await daemon.RebuildProjectionAsync<RunProjection>(CancellationToken.None);
        await daemon.RebuildProjectionAsync<TelemetryProjection>(CancellationToken.None);

        Assert.Equal(before, await Client.GetStringAsync($"{run["uri"]}/events"));
        Assert.True((bool)(await Verify(run))["verified"]!);
    }

    [Fact]
    public async Task The_verify_command_prints_one_line_per_problem_and_fails_when_there_is_any()
    {
        var good = await RunWithEverything();
        var bad = await RunWithEverything();
        await Api.TriggerAsync(Token, job: "elsewhere");
        await Sql("update runs.log_lines set message = 'all is well' where run_id = $1 and line_id = 2", (string)bad["id"]!);

        var all = await HostCommand.RunAsync(Fixture.ConnectionString, null, "verify");
        var job = await HostCommand.RunAsync(Fixture.ConnectionString, null, "verify", "--job", "elsewhere");
        var one = await HostCommand.RunAsync(Fixture.ConnectionString, null, "verify", "--job", "audited", "--run", (string)good["id"]!);
        var unknown = await HostCommand.RunAsync(Fixture.ConnectionString, null, "verify", "--run", "20260101-000000-0000000000000000");

        Assert.Equal(1, all.Exit);
        var line = Assert.Single(all.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"{bad["id"]} log_line_changed version 3: ", line);
        Assert.Contains("verifying runs", all.Errors);
        Assert.Contains("3 runs checked: 1 problem.", all.Errors);
        Assert.True(job.Exit == 0, job.Output + job.Errors);
        Assert.Equal("", job.Output);
        Assert.Contains("1 runs checked: every one verified", job.Errors);
        Assert.True(one.Exit == 0, one.Output + one.Errors);
        Assert.Equal(1, unknown.Exit);
        Assert.Contains("no run", unknown.Errors);
    }

    [Fact]
    public async Task A_run_from_before_the_chain_takes_appends_and_is_linked_by_ledger_chain()
    {
        var run = await Api.TriggerAsync(Token, job: "audited");
        await Api.CommandAsync(Token, run, "start");
        // As a run written by a version of the service without the ledger.
        await Sql("delete from runs.ledger_events where run_id = $1", (string)run["id"]!);

        await Api.Scenario(s => { s.Post.Json(new { lines = new[] { new { level = "info", message = "after the upgrade" } } }).ToUrl($"{run["uri"]}/log"); s.Bearer(Token); });
        var before = Assert.Single((await Verify(run))["problems"]!.AsArray())!;
        var (exit, output, errors) = await HostCommand.RunAsync(Fixture.ConnectionString, null, "ledger", "chain");
        var again = await HostCommand.RunAsync(Fixture.ConnectionString, null, "ledger", "chain");

        Assert.Equal("chain_missing", (string)before["kind"]!);
        Assert.True(exit == 0, output + errors);
        Assert.Contains("1 runs chained (3 events linked)", output);
        Assert.Contains("0 runs chained", again.Output);
        var after = await Verify(run);
        Assert.True((bool)after["verified"]!, after.ToJsonString());
        await Api.CommandAsync(Token, run, "succeed");
        Assert.True((bool)(await Verify(run))["verified"]!);
    }

    [Fact]
    public async Task Verifying_needs_read_access_to_the_job()
    {
        var run = await RunWithEverything();
        var elsewhere = await Fixture.TokenAsync("elsewhere", [Scopes.RunsRead], ["other"]);
        var writer = await Fixture.TokenAsync("writer", [Scopes.RunsWrite]);

        await Api.Scenario(s => { s.Get.Url($"{run["uri"]}/verify"); s.Bearer(elsewhere); s.StatusCodeShouldBe(404); });
        await Api.Scenario(s => { s.Get.Url($"{run["uri"]}/verify"); s.Bearer(writer); s.StatusCodeShouldBe(403); });
        await Api.Scenario(s => { s.Get.Url("/v1/jobs/audited/runs/20260101-000000-0000000000000000/verify"); s.Bearer(Token); s.StatusCodeShouldBe(404); });
    }
}

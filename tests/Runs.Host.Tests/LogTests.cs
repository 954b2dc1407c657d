
namespace Runs.Host.Tests;

[Collection(LogsCollection.Name)]
public sealed class LogTests(LogsHost fixture) : HostSpecification<LogsHost>(fixture, "runner", [Scopes.RunsRead, Scopes.RunsWrite])
{
    private async Task<JsonNode> Append(JsonNode run, object body, int status = 200, string? token = null) =>
        await (await Api.Scenario(s =>
        {
            s.Post.Json(body).ToUrl($"{run["uri"]}/log");
            s.Bearer(token ?? Token);
            s.StatusCodeShouldBe(status);
        })).Json();

    private async Task<string> ReadText(JsonNode run, string query = "", string? token = null) =>
        await (await Api.Scenario(s => { s.Get.Url($"{run["uri"]}/log{query}"); s.Bearer(token ?? Token); })).ReadAsTextAsync();

    private async Task<JsonArray> ReadJson(JsonNode run, string query = "", string? token = null) =>
        (await (await Api.Scenario(s =>
        {
            s.Get.Url($"{run["uri"]}/log{query}");
            s.WithRequestHeader("Accept", "application/json");
            s.Bearer(token ?? Token);
        })).Json()).AsArray();

    private static object Lines(params string[] messages) => new { lines = messages.Select(m => new { level = "info", message = m }) };

    [Fact]
    public async Task A_batch_is_one_event_with_gap_free_line_ids()
    {
        var run = await Api.TriggerAsync(Token);

        var first = await Append(run, Lines("a", "b", "c"));
        var second = await Append(run, new { lines = new object[] { new { level = "warn", message = "d", at = "2030-01-01T00:00:00Z" } } });

        Assert.Equal((3, 0, 1, 3), ((int)first["appended"]!, (int)first["dropped"]!, (int)first["first_id"]!, (int)first["last_id"]!));
        Assert.Equal((4, 4), ((int)second["first_id"]!, (int)second["last_id"]!));
        var lines = await ReadJson(run);
        Assert.Equal([1, 2, 3, 4], lines.Select(l => (int)l!["id"]!));
        Assert.Equal("2030-01-01T00:00:00.000Z", (string)lines[3]!["at"]!);
        Assert.Equal("warn", (string)lines[3]!["level"]!);
    }

    [Fact]
    public async Task The_event_keeps_the_range_and_a_digest_of_the_lines()
    {
        var run = await Api.TriggerAsync(Token);
        await Append(run, Lines("x", "y"));

        await using var connection = new NpgsqlConnection(Fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select data from runs.mt_events where stream_id = $1 and type = 'log_appended'", connection)
        {
            Parameters = { new() { Value = (string)run["id"]! } },
        };
        var data = JsonNode.Parse((string)(await command.ExecuteScalarAsync())!)!;
        Assert.Equal(1, (int)data["first_line_id"]!);
        Assert.Equal(2, (int)data["last_line_id"]!);
        Assert.Matches("^[0-9a-f]{64}$", (string)data["sha256"]!);
        Assert.Null(data["message"]);
        Assert.DoesNotContain("\"x\"", data.ToJsonString());
    }

    [Fact]
    public async Task Plain_text_is_one_info_line_per_line_and_reads_back_as_text()
    {
        var run = await Api.TriggerAsync(Token);
        var result = await Api.Scenario(s =>
        {
            s.Post.Text("first\r\nsecond\n").ToUrl($"{run["uri"]}/log");
            s.Bearer(Token);
        });
        Assert.Equal(2, (int)(await result.Json())["appended"]!);

        var text = await ReadText(run);
        var lines = text.TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO first$", lines[0]);
        Assert.EndsWith(" INFO second", lines[1]);
    }

    [Fact]
    public async Task Piped_bytes_that_are_not_utf8_and_nul_bytes_are_kept_as_replacement_characters()
    {
        var run = await Api.TriggerAsync(Token);
        // A binary's output: "ok", a NUL, a byte no UTF-8 text holds, "end".
        var body = new ByteArrayContent([(byte)'o', (byte)'k', 0, 0xFF, (byte)'e', (byte)'n', (byte)'d', (byte)'\n']);
        body.Headers.ContentType = new("text/plain");

        var answer = await Client.PostAsync($"{run["uri"]}/log", body);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var line = Assert.Single(await ReadJson(run))!;
        Assert.Equal("ok\uFFFD\uFFFDend", (string)line["message"]!);
    }

    [Fact]
    public async Task Text_in_another_charset_is_415_and_an_empty_text_body_appends_nothing()
    {
        var run = await Api.TriggerAsync(Token);
        var refused = await Api.PostTextAsync(Token, $"{run["uri"]}/log", "caf\u00e9", "text/plain; charset=iso-8859-1", 415);
        await refused.ProblemAsync(415);

        var empty = await (await Api.PostTextAsync(Token, $"{run["uri"]}/log", "", "text/plain", 200)).Json();
        Assert.Equal(0, (int)empty["appended"]!);
    }

    [Fact]
    public async Task Reads_filter_by_after_id_limit_tail_and_minimum_level()
    {
        var run = await Api.TriggerAsync(Token);
        await Append(run, new
        {
            lines = new object[]
            {
                new { level = "debug", message = "1" }, new { level = "info", message = "2" }, new { level = "warn", message = "3" },
                new { level = "error", message = "4" }, new { level = "info", message = "5" },
            },
        });

        Assert.Equal(["3", "4", "5"], (await ReadJson(run, "?after_id=2")).Select(l => (string)l!["message"]!));
        Assert.Equal(["1", "2"], (await ReadJson(run, "?limit=2")).Select(l => (string)l!["message"]!));
        Assert.Equal(["4", "5"], (await ReadJson(run, "?tail=2")).Select(l => (string)l!["message"]!));
        Assert.Equal(["3", "4"], (await ReadJson(run, "?level=warn")).Select(l => (string)l!["message"]!));
        Assert.Equal(["4"], (await ReadJson(run, "?level=warn&after_id=3&limit=1")).Select(l => (string)l!["message"]!));
        // This host reads three lines a page: longer answers are several pages, joined without a seam.
        Assert.Equal(["1", "2", "3", "4", "5"], (await ReadJson(run, "")).Select(l => (string)l!["message"]!));
        Assert.Equal(["1", "2", "3", "4"], (await ReadJson(run, "?limit=4")).Select(l => (string)l!["message"]!));
        Assert.Equal(["2", "3", "4", "5"], (await ReadJson(run, "?tail=4")).Select(l => (string)l!["message"]!));
        Assert.Equal(["3", "4", "5"], (await ReadJson(run, "?level=info&tail=3")).Select(l => (string)l!["message"]!));
        Assert.Equal(["5"], (await ReadJson(run, "?after_id=3&tail=1")).Select(l => (string)l!["message"]!));
    }

    [Fact]
    public async Task A_run_without_lines_reads_as_an_empty_body_or_array()
    {
        var run = await Api.TriggerAsync(Token);
        Assert.Equal("", await ReadText(run));
        Assert.Empty(await ReadJson(run));
    }

    [Fact]
    public async Task Internal_lines_are_shown_only_to_admin_tokens()
    {
        var run = await Api.TriggerAsync(Token);
        await Append(run, new { lines = new object[] { new { level = "info", message = "public" }, new { level = "debug", message = "runner internals", @internal = true } } });
        var admin = await Fixture.TokenAsync("ops", [Scopes.Admin]);

        Assert.Equal(["public"], (await ReadJson(run)).Select(l => (string)l!["message"]!));
        Assert.Equal(["public", "runner internals"], (await ReadJson(run, token: admin)).Select(l => (string)l!["message"]!));
    }

    [Fact]
    public async Task Secrets_and_credentials_are_scrubbed_before_anything_is_stored()
    {
        var run = await Api.TriggerAsync(Token, body: new { env = new[] { new { key = "API_KEY", value = "tops3cret-4242", secret = true } } });

        await Append(run, Lines(
            "calling with tops3cret-4242",
            "Authorization: Bearer eyJhbGciOi.abc",
            "postgres://app:pw123@db:5432/x",
            "Server=db;User Id=app;Password=pw456;",
            "using AKIAIOSFODNN7EXAMPLE"));

        var text = await ReadText(run);
        Assert.Contains("calling with [REDACTED]", text);
        Assert.Contains("Bearer [REDACTED]", text);
        Assert.Contains("postgres://app:[REDACTED]@db", text);
        Assert.Contains("Password=[REDACTED]", text);
        Assert.Contains("using [REDACTED]", text);

        await using var connection = new NpgsqlConnection(Fixture.ConnectionString);
        await connection.OpenAsync();
        foreach (var secret in new[] { "tops3cret-4242", "pw123", "pw456", "AKIAIOSFODNN7EXAMPLE" })
        {
            await using var command = new NpgsqlCommand(
                "select (select count(*) from runs.log_lines where message like $1) + (select count(*) from runs.mt_events where data::text like $1) + (select count(*) from runs.mt_doc_run where data::text like $1)",
                connection)
            {
                Parameters = { new() { Value = $"%{secret}%" } },
            };
            Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
        }
    }

    [Fact]
    public async Task Past_the_cap_lines_are_dropped_counted_and_marked_once()
    {
        var run = await Api.TriggerAsync(Token);

        var first = await Append(run, Lines([.. Enumerable.Range(1, 15).Select(i => $"line {i}")]));
        var second = await Append(run, Lines("more", "and more"));

        Assert.Equal((10, 5), ((int)first["appended"]!, (int)first["dropped"]!));
        Assert.Equal((0, 2), ((int)second["appended"]!, (int)second["dropped"]!));
        Assert.Null(second["first_id"]);
        var lines = await ReadJson(run);
        Assert.Equal(11, lines.Count);
        Assert.Contains("cap of 10 lines", (string)lines[10]!["message"]!);
        var read = await (await Api.Scenario(s => { s.Get.Url((string)run["uri"]!); s.Bearer(Token); })).Json();
        Assert.Equal(10, (int)read["log_lines"]!);
        Assert.Equal(7, (int)read["log_lines_dropped"]!);
    }

    [Fact]
    public async Task Over_long_lines_are_cut_with_a_marker()
    {
        var run = await Api.TriggerAsync(Token);
        await Append(run, Lines(new string('x', 300)));
        var message = (string)(await ReadJson(run))[0]!["message"]!;
        Assert.StartsWith(new string('x', 100), message);
        Assert.EndsWith("[line truncated]", message);
    }

    // More lines than one request may carry (50); more bytes than a log body may have (64 KiB).
    public static TheoryData<string[]> OverALimit => new()
    {
        Enumerable.Range(1, 51).Select(i => $"{i}").ToArray(),
        Enumerable.Range(1, 40).Select(_ => new string('x', 2000)).ToArray(),
    };

    [Theory]
    [MemberData(nameof(OverALimit))]
    public async Task An_append_past_a_request_limit_is_413_and_nothing_is_stored(string[] messages)
    {
        var run = await Api.TriggerAsync(Token);
        var result = await Api.Scenario(s =>
        {
            s.Post.Json(Lines(messages)).ToUrl($"{run["uri"]}/log");
            s.Bearer(Token);
            s.StatusCodeShouldBe(413);
        });
        await result.ProblemAsync(413);
        Assert.Empty(await ReadJson(run));
    }

    [Fact]
    public async Task Appends_after_the_run_ended_are_409()
    {
        var run = await Api.TriggerAsync(Token);
        await Api.CommandAsync(Token, run, "cancel");
        var result = await Api.Scenario(s =>
        {
            s.Post.Json(Lines("late")).ToUrl($"{run["uri"]}/log");
            s.Bearer(Token);
            s.StatusCodeShouldBe(409);
        });
        Assert.Equal("canceled", (string)(await result.ProblemAsync(409))["current_status"]!);
    }

    [Fact]
    public async Task The_job_log_is_the_latest_triggered_runs_log_even_within_one_second()
    {
        // Two runs of one second whose ids sort against their trigger times: the later trigger wins.
        var second = DateTimeOffset.UtcNow.AddMinutes(-1);
        second = second.AddTicks(-(second.Ticks % TimeSpan.TicksPerSecond));
        var newer = await Fixture.SeedRunAsync("etl", second.AddMilliseconds(900), RunStatus.Running, id: $"{second.UtcDateTime:yyyyMMdd-HHmmss}-0000000000000000");
        var older = await Fixture.SeedRunAsync("etl", second.AddMilliseconds(100), RunStatus.Running, id: $"{second.UtcDateTime:yyyyMMdd-HHmmss}-ffffffffffffffff");
        await Append(new JsonObject { ["uri"] = $"/v1/jobs/etl/runs/{older}" }, Lines("old"));
        await Append(new JsonObject { ["uri"] = $"/v1/jobs/etl/runs/{newer}" }, Lines("new"));

        var result = await Api.Scenario(s => { s.Get.Url("/v1/jobs/etl/log"); s.Bearer(Token); });
        Assert.EndsWith(" INFO new\n", await result.ReadAsTextAsync());
        Assert.Equal(newer, result.Context.Response.Headers["Runs-Run-Id"].ToString());
        await Api.Scenario(s => { s.Get.Url("/v1/jobs/no-runs-here/log"); s.Bearer(Token); s.StatusCodeShouldBe(404); });
    }

    [Fact]
    public async Task The_last_error_lines_are_kept_on_the_run()
    {
        var run = await Api.TriggerAsync(Token);
        await Append(run, new { lines = Enumerable.Range(1, 7).Select(i => new { level = "error", message = $"e{i}" }) });
        var read = await (await Api.Scenario(s => { s.Get.Url((string)run["uri"]!); s.Bearer(Token); })).Json();
        Assert.Equal(["e3", "e4", "e5", "e6", "e7"], read["last_error_lines"]!.AsArray().Select(l => (string)l!));
    }
}

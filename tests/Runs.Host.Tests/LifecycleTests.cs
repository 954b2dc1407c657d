
namespace Runs.Host.Tests;

[Collection(DefaultCollection.Name)]
public sealed class LifecycleTests(DefaultHost fixture) : HostSpecification<DefaultHost>(fixture, "runner-7")
{
    // A moment just ahead (within the allowed clock skew), whole seconds so expectations are exact.
    private static readonly DateTimeOffset Soon = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds());

    private static string At(double seconds) => Soon.AddSeconds(seconds).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");

    private async Task<JsonNode> Command(JsonNode run, string action, object? body = null, int status = 200) =>
        await (await Api.CommandAsync(Token, run, action, body, status)).Json();

    [Fact]
    public async Task A_run_goes_from_pending_through_pause_to_success()
    {
        var run = await Api.TriggerAsync(Token);

        var started = await Command(run, "start", new { runner = "worker-1", at = At(0) });
        Assert.Equal("running", (string)started["status"]!);
        Assert.Equal("worker-1", (string)started["runner"]!);
        Assert.Equal(At(0), (string)started["started_on"]!);

        var paused = await Command(run, "pause", new { reason = "waiting for approval" });
        Assert.Equal("paused", (string)paused["status"]!);
        Assert.Equal("waiting for approval", (string)paused["paused_reason"]!);

        var resumed = await Command(run, "continue");
        Assert.Equal("running", (string)resumed["status"]!);
        Assert.Null(resumed["paused_reason"]);

        var succeeded = await Command(run, "succeed", new { exit_code = 0, at = At(29.04), telemetry_summary = new { rows = 12 } });
        Assert.Equal("succeeded", (string)succeeded["status"]!);
        Assert.Equal(0, (int)succeeded["exit_code"]!);
        Assert.Equal(29.04, (double)succeeded["duration"]!);
        Assert.Equal(12, (int)succeeded["telemetry_summary"]!["rows"]!);
        Assert.Equal(6, (int)succeeded["version"]!);

        var read = await (await Api.Scenario(s => { s.Get.Url((string)run["uri"]!); s.Bearer(Token); })).Json();
        Assert.Equal("succeeded", (string)read["status"]!);
        Assert.Equal(At(29.04), (string)read["completed_on"]!);
    }

    [Fact]
    public async Task Fail_records_the_scrubbed_error_summary_and_exit_code()
    {
        var run = await Api.TriggerAsync(Token, body: new { env = new[] { new { key = "TOKEN", value = "s3cr3t-value", secret = true } } });
        await Command(run, "start");

        var failed = await Command(run, "fail", new { error_summary = "login failed with s3cr3t-value", exit_code = 3 });

        Assert.Equal("failed", (string)failed["status"]!);
        Assert.Equal("login failed with [REDACTED]", (string)failed["error_summary"]!);
        Assert.Equal(3, (int)failed["exit_code"]!);
    }

    [Fact]
    public async Task Reject_works_only_from_pending()
    {
        var run = await Api.TriggerAsync(Token);
        var rejected = await Command(run, "reject", new { reason = "quota exceeded" });
        Assert.Equal("rejected", (string)rejected["status"]!);
        Assert.Equal("quota exceeded", (string)rejected["reject_reason"]!);

        var again = await Api.CommandAsync(Token, run, "reject", new { reason = "again" }, 409);
        var problem = await again.ProblemAsync(409);
        Assert.Equal("rejected", (string)problem["current_status"]!);
        Assert.Equal("reject", (string)problem["action"]!);
    }

    [Theory]
    [InlineData("succeed")]
    [InlineData("continue")]
    public async Task Illegal_transitions_are_409_naming_the_current_status(string action)
    {
        var run = await Api.TriggerAsync(Token);

        var result = await Api.CommandAsync(Token, run, action, status: 409);

        var problem = await result.ProblemAsync(409);
        Assert.Equal("pending", (string)problem["current_status"]!);
        Assert.Contains("pending", (string)problem["detail"]!);
    }

    [Fact]
    public async Task Canceling_a_finished_run_answers_200_and_changes_nothing()
    {
        var run = await Api.TriggerAsync(Token);
        await Command(run, "start");
        var succeeded = await Command(run, "succeed");

        var canceled = await Command(run, "cancel", new { reason = "too late" });

        Assert.Equal("succeeded", (string)canceled["status"]!);
        Assert.Equal((int)succeeded["version"]!, (int)canceled["version"]!);
        Assert.Null(canceled["cancel_reason"]);
    }

    [Fact]
    public async Task A_time_far_in_the_future_is_400()
    {
        var run = await Api.TriggerAsync(Token);
        var result = await Api.CommandAsync(Token, run, "start", new { at = "2099-01-01T00:00:00Z" }, 400);
        Assert.NotNull((await result.ProblemAsync(400))["errors"]!["at"]);
    }

    [Fact]
    public async Task An_optional_body_may_be_empty_even_with_a_json_content_type()
    {
        var run = await Api.TriggerAsync(Token);
        await Api.PostTextAsync(Token, $"{run["uri"]}/start", "", "application/json", 200);
    }

    [Theory]
    [InlineData("*", 200)]
    [InlineData("\"1\", \"2\"", 200)]
    [InlineData("\"5\", \"6\"", 412)]
    public async Task If_match_takes_any_and_lists(string header, int status)
    {
        var run = await Api.TriggerAsync(Token);
        var result = await StartIfMatch(run, header, status);
        if (status != 200)
        {
            await result.ProblemAsync(status);
        }
    }

    [Fact]
    public async Task Numbers_sent_as_strings_are_400()
    {
        var run = await Api.TriggerAsync(Token);
        await Api.CommandAsync(Token, run, "start");
        var result = await Api.PostTextAsync(Token, $"{run["uri"]}/succeed", "{\"exit_code\":\"0\"}", "application/json", 400);
        Assert.NotNull((await result.ProblemAsync(400))["errors"]!["exit_code"]);
    }

    [Fact]
    public async Task A_time_before_the_previous_event_is_400()
    {
        var run = await Api.TriggerAsync(Token);

        var result = await Api.CommandAsync(Token, run, "start", new { at = "2001-01-01T00:00:00Z" }, 400);

        var problem = await result.ProblemAsync(400);
        Assert.NotNull(problem["errors"]!["at"]);
    }

    [Fact]
    public async Task If_match_with_a_stale_version_is_412_and_changes_nothing()
    {
        var run = await Api.TriggerAsync(Token);
        await Command(run, "start");

        var result = await Api.Scenario(s =>
        {
            s.Post.Json(new { reason = "x" }).ToUrl($"{run["uri"]}/pause");
            s.WithRequestHeader("If-Match", "\"1\"");
            s.Bearer(Token);
            s.StatusCodeShouldBe(412);
        });
        await result.ProblemAsync(412);

        var read = await (await Api.Scenario(s => { s.Get.Url((string)run["uri"]!); s.Bearer(Token); })).Json();
        Assert.Equal("running", (string)read["status"]!);
        Assert.Equal(2, (int)read["version"]!);
    }

    [Fact]
    public async Task If_match_with_the_current_version_succeeds_and_returns_the_new_etag()
    {
        var run = await Api.TriggerAsync(Token);

        var result = await StartIfMatch(run, "\"1\"", 200);

        Assert.Equal("\"2\"", result.Context.Response.Headers.ETag.ToString());
    }

    [Fact]
    public async Task A_malformed_if_match_is_400()
    {
        var run = await Api.TriggerAsync(Token);
        var result = await StartIfMatch(run, "version one", 400);
        await result.ProblemAsync(400);
    }

    private Task<IScenarioResult> StartIfMatch(JsonNode run, string ifMatch, int status) => Api.Scenario(s =>
    {
        s.Post.Url($"{run["uri"]}/start");
        s.WithRequestHeader("If-Match", ifMatch);
        s.Bearer(Token);
        s.StatusCodeShouldBe(status);
    });

    [Fact]
    public async Task If_none_match_with_the_current_etag_is_304()
    {
        var run = await Api.TriggerAsync(Token);
        foreach (var suffix in new[] { "", "/status", "/stats" })
        {
            await Api.Scenario(s =>
            {
                s.Get.Url($"{run["uri"]}{suffix}");
                s.WithRequestHeader("If-None-Match", "\"1\"");
                s.Bearer(Token);
                s.StatusCodeShouldBe(304);
            });
        }
        await Api.Scenario(s =>
        {
            s.Get.Url((string)run["uri"]!);
            s.WithRequestHeader("If-None-Match", "\"7\"");
            s.Bearer(Token);
            s.StatusCodeShouldBe(200);
        });
    }

    [Fact]
    public async Task Two_writers_with_the_same_expected_version_never_both_succeed()
    {
        var run = await Api.TriggerAsync(Token);
        await Command(run, "start");

        var attempts = Enumerable.Range(0, 6).Select(i => Api.Server.CreateClient().SendAsync(new HttpRequestMessage(HttpMethod.Patch, (string)run["uri"]!)
        {
            Headers = { { "Authorization", $"Bearer {Token}" }, { "If-Match", "\"2\"" } },
            Content = new StringContent($"{{\"append_log\":{{\"message\":\"writer {i}\"}}}}", System.Text.Encoding.UTF8, "application/json"),
        }));
        var answers = await Task.WhenAll(attempts);

        Assert.Equal(1, answers.Count(a => a.StatusCode == System.Net.HttpStatusCode.OK));
        Assert.All(answers.Where(a => a.StatusCode != System.Net.HttpStatusCode.OK),
            a => Assert.Equal(System.Net.HttpStatusCode.PreconditionFailed, a.StatusCode));
        var read = await (await Api.Scenario(s => { s.Get.Url((string)run["uri"]!); s.Bearer(Token); })).Json();
        Assert.Equal(3, (int)read["version"]!);
        Assert.Equal(1, (int)read["log_lines"]!);
    }

    [Fact]
    public async Task Concurrent_writers_without_if_match_are_serialised_without_losing_events()
    {
        var run = await Api.TriggerAsync(Token);
        await Command(run, "start");

        var writes = Enumerable.Range(0, 20).Select(i => Api.Server.CreateClient().SendAsync(new HttpRequestMessage(HttpMethod.Patch, (string)run["uri"]!)
        {
            Headers = { { "Authorization", $"Bearer {Token}" } },
            Content = new StringContent($"{{\"append_log\":{{\"level\":\"info\",\"message\":\"line {i}\"}},\"telemetry_summary\":{{\"progress\":{i}}}}}", System.Text.Encoding.UTF8, "application/json"),
        }));
        var answers = await Task.WhenAll(writes);

        Assert.All(answers, a => Assert.Equal(System.Net.HttpStatusCode.OK, a.StatusCode));
        var read = await (await Api.Scenario(s => { s.Get.Url((string)run["uri"]!); s.Bearer(Token); })).Json();
        Assert.Equal(20, (int)read["log_lines"]!);
        Assert.Equal(2 + 40, (int)read["version"]!);
        Assert.Equal("running", (string)read["status"]!);

        await using var connection = new NpgsqlConnection(Fixture.ConnectionString);
        await connection.OpenAsync();
        await using var versions = new NpgsqlCommand("select array_agg(version order by version) from runs.mt_events where stream_id = $1", connection)
        {
            Parameters = { new() { Value = (string)run["id"]! } },
        };
        var stored = (long[])(await versions.ExecuteScalarAsync())!;
        Assert.Equal(Enumerable.Range(1, 42).Select(v => (long)v), stored);
        await using var lines = new NpgsqlCommand("select array_agg(line_id order by line_id) from runs.log_lines where run_id = $1", connection)
        {
            Parameters = { new() { Value = (string)run["id"]! } },
        };
        Assert.Equal(Enumerable.Range(1, 20).Select(v => (long)v), (long[])(await lines.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Patch_applies_appends_then_results_then_the_status_in_one_call()
    {
        var run = await Api.TriggerAsync(Token);
        await Command(run, "start");

        var result = await Api.Scenario(s =>
        {
            s.Patch.Json(new
            {
                status = "failed",
                append_log = new { level = "error", message = "disk full" },
                telemetry_summary = new { phase = "load", progress = 40 },
                append_telemetry_sample = new { rows = 10 },
                error_summary = "load step failed",
                exit_code = 2,
                finished_at = At(100),
            }).ToUrl((string)run["uri"]!);
            s.Bearer(Token);
        });

        var patched = await result.Json();
        Assert.Equal("failed", (string)patched["status"]!);
        Assert.Equal("load step failed", (string)patched["error_summary"]!);
        Assert.Equal(2, (int)patched["exit_code"]!);
        Assert.Equal(At(100), (string)patched["completed_on"]!);
        Assert.Equal("load", (string)patched["telemetry_summary"]!["phase"]!);
        Assert.Equal(1, (int)patched["log_lines"]!);
        Assert.Equal("disk full", (string)patched["last_error_lines"]![0]!);
        Assert.Equal(6, (int)patched["version"]!);
    }

    [Fact]
    public async Task Patch_that_finishes_a_run_in_the_past_takes_that_time_for_the_whole_call()
    {
        // A run that started a minute ago (seeded: the API stamps the server's time) and ended 4.5 s later.
        var triggered = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds());
        var id = await Fixture.SeedRunAsync("nightly", triggered, global::Runs.Domain.RunStatus.Running);
        var uri = $"/v1/jobs/nightly/runs/{id}";
        var finished = Rfc3339(triggered.AddSeconds(1 + 4.5));

        var result = await Api.Scenario(s =>
        {
            s.Patch.Json(new { status = "succeeded", exit_code = 0, finished_at = finished }).ToUrl(uri);
            s.Bearer(Token);
        });

        var patched = await result.Json();
        Assert.Equal("succeeded", (string)patched["status"]!);
        Assert.Equal(0, (int)patched["exit_code"]!);
        Assert.Equal(finished, (string)patched["completed_on"]!);
        Assert.Equal(4.5, (double)patched["duration"]!);
        var events = await (await Api.Scenario(s =>
        {
            s.Get.Url($"{uri}/events");
            s.Bearer(Token);
        })).Json();
        Assert.All(events["events"]!.AsArray().Skip(2), e => Assert.Equal(finished, (string)e!["data"]!["at"]!));
    }

    private static string Rfc3339(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");

    [Fact]
    public async Task Patch_to_failed_without_an_error_summary_is_400_and_changes_nothing()
    {
        var run = await Api.TriggerAsync(Token);
        await Command(run, "start");

        var result = await Api.Scenario(s =>
        {
            s.Patch.Json(new { status = "failed", append_log = new { message = "about to fail" } }).ToUrl((string)run["uri"]!);
            s.Bearer(Token);
            s.StatusCodeShouldBe(400);
        });
        var problem = await result.ProblemAsync(400);
        Assert.NotNull(problem["errors"]!["error_summary"]);

        var read = await (await Api.Scenario(s => { s.Get.Url((string)run["uri"]!); s.Bearer(Token); })).Json();
        Assert.Equal(0, (int)read["log_lines"]!);
        Assert.Equal(2, (int)read["version"]!);
    }

    [Theory]
    [InlineData("{\"status\":\"paused\"}", 400)]
    [InlineData("{\"status\":\"done\"}", 400)]
    [InlineData("{\"append_log\":{\"level\":\"loud\",\"message\":\"x\"}}", 400)]
    [InlineData("{\"append_telemetry_sample\":{\"rows\":\"many\"}}", 400)]
    [InlineData("{\"status\":\"succeeded\"}", 409)]
    public async Task Patch_refuses_bad_or_illegal_changes(string body, int status)
    {
        var run = await Api.TriggerAsync(Token);

        var result = await Api.Scenario(s =>
        {
            s.Patch.Text(body).ToUrl((string)run["uri"]!);
            s.WithRequestHeader("Content-Type", "application/json");
            s.Bearer(Token);
            s.StatusCodeShouldBe(status);
        });
        await result.ProblemAsync(status);
    }

    /// <summary>Every read of one run, found in the route table, looks its run up the same way.</summary>
    [Fact]
    public async Task Every_read_of_a_run_is_404_for_an_unknown_run_and_for_a_run_of_another_job()
    {
        var run = await Api.TriggerAsync(Token, job: "alpha");
        var reads = RouteTable.V1Routes(Api).Where(r => r.Method == "GET" && r.Pattern.StartsWith("/v1/jobs/{job}/runs/{run}", StringComparison.Ordinal)).ToList();
        Assert.Contains(reads, r => r.Pattern.EndsWith("/events", StringComparison.Ordinal));

        foreach (var route in reads)
        {
            foreach (var (job, id) in new[] { ("beta", (string)run["id"]!), ("alpha", "20260101-000000-0123456789abcdef") })
            {
                // A valid query, where the read needs one, so that only the run can be what is missing.
                var url = route.Pattern.Replace("{job}", job).Replace("{run}", id).Replace("{name}", "in.txt")
                    + (route.Pattern.EndsWith("/state", StringComparison.Ordinal) ? "?version=1" : "");
                var result = await Api.Scenario(s => { s.Get.Url(url); s.Bearer(Token); s.StatusCodeShouldBe(404); });
                Assert.Contains("No run", (string)(await result.ProblemAsync(404))["detail"]!);
            }
        }
    }

    [Fact]
    public async Task Unknown_runs_and_runs_of_another_job_are_404()
    {
        var run = await Api.TriggerAsync(Token, job: "alpha");

        foreach (var url in new[]
        {
            $"/v1/jobs/beta/runs/{run["id"]}",
            "/v1/jobs/alpha/runs/20260101-000000-0123456789abcdef",
            "/v1/jobs/alpha/runs/not-a-run-id",
        })
        {
            var result = await Api.Scenario(s => { s.Get.Url(url); s.Bearer(Token); s.StatusCodeShouldBe(404); });
            await result.ProblemAsync(404);
        }
        var write = await Api.Scenario(s => { s.Post.Url($"/v1/jobs/beta/runs/{run["id"]}/start"); s.Bearer(Token); s.StatusCodeShouldBe(404); });
        await write.ProblemAsync(404);
    }

    [Fact]
    public async Task Status_is_the_plain_status_word()
    {
        var run = await Api.TriggerAsync(Token);
        await Command(run, "start");

        var result = await Api.Scenario(s => { s.Get.Url($"{run["uri"]}/status"); s.Bearer(Token); });

        Assert.Equal("running\n", await result.ReadAsTextAsync());
        Assert.StartsWith("text/plain", result.Context.Response.ContentType);
        Assert.Equal("\"2\"", result.Context.Response.Headers.ETag.ToString());
    }

    [Fact]
    public async Task Stats_are_key_value_text_by_default_and_json_on_request()
    {
        var run = await Api.TriggerAsync(Token, body: new { trigger = "webhook", source = "github" });
        await Command(run, "start", new { at = At(0) });
        await Command(run, "succeed", new { at = At(60.5) });

        var text = await (await Api.Scenario(s => { s.Get.Url($"{run["uri"]}/stats"); s.Bearer(Token); })).ReadAsTextAsync();
        var lines = text.TrimEnd('\n').Split('\n');
        Assert.Equal(
            ["name", "shortname", "status", "origin", "started_on", "completed_on", "duration", "trigger", "source", "has_output", "created_by"],
            lines.Select(l => l[..l.IndexOf(':')]));
        Assert.Contains("status: succeeded", lines);
        Assert.Contains("duration: 60.50", lines);
        Assert.Contains($"completed_on: {At(60.5)}", lines);
        Assert.Contains("created_by: runner-7", lines);

        var json = await (await Api.Scenario(s =>
        {
            s.Get.Url($"{run["uri"]}/stats");
            s.WithRequestHeader("Accept", "application/json");
            s.Bearer(Token);
        })).Json();
        Assert.Equal("webhook", (string)json["trigger"]!);
        Assert.Equal("github", (string)json["source"]!);
        Assert.Equal(60.5, (double)json["duration"]!);
        Assert.Equal(11, json.AsObject().Count);
    }

    [Fact]
    public async Task Every_event_records_the_actor_the_trace_id_as_correlation_id_and_the_causation_id()
    {
        var result = await Api.Scenario(s =>
        {
            s.Post.Json(new { }).ToUrl("/v1/jobs/nightly/runs");
            s.WithRequestHeader("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
            s.Bearer(Token);
            s.StatusCodeShouldBe(201);
        });
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", result.Context.Response.Headers["X-Correlation-Id"].ToString());
        var run = await result.Json();
        // Without a traceparent the request's own new trace id is the correlation id, whatever else is sent.
        var started = await Api.Scenario(s =>
        {
            s.Post.Url($"{run["uri"]}/start");
            s.WithRequestHeader("X-Correlation-Id", "deploy-42");
            s.Bearer(Token);
        });
        var startedCorrelation = started.Context.Response.Headers["X-Correlation-Id"].ToString();
        Assert.Matches("^[0-9a-f]{32}$", startedCorrelation);

        await using var connection = new NpgsqlConnection(Fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select user_name, correlation_id, causation_id from runs.mt_events where stream_id = $1 order by version", connection)
        {
            Parameters = { new() { Value = (string)run["id"]! } },
        };
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("runner-7", reader.GetString(0));
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", reader.GetString(1));
        Assert.False(string.IsNullOrEmpty(reader.GetString(2)));
        Assert.True(await reader.ReadAsync());
        Assert.Equal(startedCorrelation, reader.GetString(1));
    }
}

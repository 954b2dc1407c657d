
namespace Runs.Host.Tests;

[Collection(LogsCollection.Name)]
public sealed class TelemetryTests(LogsHost fixture) : HostSpecification<LogsHost>(fixture, "runner", [Scopes.RunsRead, Scopes.RunsWrite])
{
    private async Task<JsonNode> Record(JsonNode run, object body, int status = 200) =>
        await (await Api.Scenario(s =>
        {
            s.Post.Json(body).ToUrl($"{run["uri"]}/telemetry");
            s.Bearer(Token);
            s.StatusCodeShouldBe(status);
        })).Json();

    [Fact]
    public async Task The_summary_is_shallow_merged_and_shown_on_the_run()
    {
        var run = await Api.TriggerAsync(Token);
        await Record(run, new { summary = new { rows = 10, phase = "extract", resource = new { cpu = 1 } } });
        var answer = await Record(run, new { summary = new { rows = 25, progress = 50, resource = new { mem = 2 } } });

        var summary = answer["summary"]!;
        Assert.Equal(25, (int)summary["rows"]!);
        Assert.Equal("extract", (string)summary["phase"]!);
        Assert.Equal(50, (int)summary["progress"]!);
        Assert.Null(summary["resource"]!["cpu"]);
        var read = await (await Api.Scenario(s => { s.Get.Url((string)run["uri"]!); s.Bearer(Token); })).Json();
        Assert.Equal(25, (int)read["telemetry_summary"]!["rows"]!);
    }

    [Fact]
    public async Task Samples_get_the_server_time_when_they_have_none()
    {
        var run = await Api.TriggerAsync(Token);
        await Record(run, new { samples = new object[] { new { cpu = 0.5 }, new { at = "2030-01-01T00:00:00Z", cpu = 0.7 } } });

        var telemetry = await (await Api.Scenario(s => { s.Get.Url($"{run["uri"]}/telemetry"); s.Bearer(Token); })).Json();
        var samples = telemetry["samples"]!.AsArray();
        Assert.Equal(2, samples.Count);
        Assert.NotNull(samples[0]!["at"]);
        Assert.Equal(0.7, (double)samples[1]!["cpu"]!);
    }

    [Fact]
    public async Task Past_the_cap_the_series_is_downsampled_keeping_both_ends()
    {
        var run = await Api.TriggerAsync(Token);
        var start = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (var batch = 0; batch < 5; batch++)
        {
            await Record(run, new
            {
                samples = Enumerable.Range(batch * 20, 20).Select(i => new Dictionary<string, object>
                {
                    ["at"] = start.AddSeconds(i).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"),
                    ["value"] = i == 57 ? 1000 : i % 7,
                }),
            });
        }

        var samples = (await (await Api.Scenario(s => { s.Get.Url($"{run["uri"]}/telemetry"); s.Bearer(Token); })).Json())["samples"]!.AsArray();
        Assert.True(samples.Count <= 20, $"{samples.Count} samples");
        Assert.True(samples.Count >= 10);
        Assert.Equal(start.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"), (string)samples[0]!["at"]!);
        Assert.Equal(start.AddSeconds(99).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"), (string)samples[^1]!["at"]!);
        Assert.Contains(samples, s => (int)s!["value"]! == 1000);
    }

    [Fact]
    public async Task Telemetry_after_the_run_ended_is_409()
    {
        var run = await Api.TriggerAsync(Token);
        await Api.CommandAsync(Token, run, "cancel");
        await Record(run, new { summary = new { rows = 1 } }, 409);
    }

    private async Task<JsonNode> Read(JsonNode run, string path = "") =>
        await (await Api.Scenario(s => { s.Get.Url($"{run["uri"]}{path}"); s.Bearer(Token); })).Json();

    private static Dictionary<string, object> Fields(string prefix, int from, int count, object value) =>
        Enumerable.Range(from, count).ToDictionary(i => $"{prefix}{i}", _ => value);

    private static string Nested(int depth) => new string('[', depth) + new string(']', depth);

    /// <summary>Sends a summary patch the way <paramref name="path"/> does; the run must be running for "succeed".</summary>
    private Task<IScenarioResult> SendSummary(JsonNode run, string path, object summary, int status) => Api.Scenario(s =>
    {
        switch (path)
        {
            case "telemetry": s.Post.Json(new { summary }).ToUrl($"{run["uri"]}/telemetry"); break;
            case "patch": s.Patch.Json(new { telemetry_summary = summary }).ToUrl((string)run["uri"]!); break;
            default: s.Post.Json(new { telemetry_summary = summary }).ToUrl($"{run["uri"]}/succeed"); break;
        }
        s.Bearer(Token);
        s.StatusCodeShouldBe(status);
    });

    /// <summary>The offender changed nothing, and the run can still be finished and its history read.</summary>
    private async Task AssertUnchangedAndFinishable(JsonNode run, JsonNode before, JsonNode telemetryBefore)
    {
        var after = await Read(run);
        Assert.Equal((int)before["version"]!, (int)after["version"]!);
        Assert.Equal(telemetryBefore.ToJsonString(), (await Read(run, "/telemetry")).ToJsonString());
        if ((string)after["status"]! == "pending")
        {
            await Api.CommandAsync(Token, run, "start");
        }
        await Api.CommandAsync(Token, run, "succeed");
        var events = await Read(run, "/events");
        Assert.Equal("Succeeded", (string)events["events"]!.AsArray()[^1]!["type"]!);
    }

    [Fact]
    public async Task The_answer_is_the_series_as_stored_even_past_the_cap()
    {
        var run = await Api.TriggerAsync(Token);
        var start = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (var batch = 0; batch < 3; batch++)
        {
            var answer = await Record(run, new
            {
                samples = Enumerable.Range(batch * 15, 15).Select(i => new Dictionary<string, object>
                {
                    ["at"] = start.AddSeconds(i).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"),
                    ["value"] = i % 5,
                }),
            });
            var stored = await Read(run, "/telemetry");
            Assert.Equal(stored.ToJsonString(), answer.ToJsonString());
            Assert.Equal(start.AddSeconds(batch * 15 + 14).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"), (string)answer["samples"]!.AsArray()[^1]!["at"]!);
        }

        // The projection is a pure fold: folding the events again gives the series that was stored.
        await using var session = Fixture.Store.QuerySession();
        var id = (string)run["id"]!;
        var series = await session.LoadAsync<global::Runs.Domain.TelemetrySeries>(id);
        var rebuilt = await session.Events.AggregateStreamAsync<global::Runs.Domain.TelemetrySeries>(id);
        Assert.Equal(20, series!.Samples.Count);
        Assert.Equal(
            series.Samples.Select(s => System.Text.Json.JsonSerializer.Serialize(s)),
            rebuilt!.Samples.Select(s => System.Text.Json.JsonSerializer.Serialize(s)));
    }

    [Fact]
    public async Task Samples_naming_more_distinct_fields_than_a_run_may_have_are_400_and_store_nothing()
    {
        var run = await Api.TriggerAsync(Token);
        await Record(run, new { samples = new[] { Fields("f", 0, 40, 1) } });
        var before = await Read(run);
        var telemetry = await Read(run, "/telemetry");

        // Ten more names fit (50 in all); eleven do not, split over samples or not, by POST or PATCH.
        var problem = await (await Api.Scenario(s =>
        {
            s.Post.Json(new { samples = new[] { Fields("f", 40, 5, 2), Fields("f", 45, 6, 3) } }).ToUrl($"{run["uri"]}/telemetry");
            s.Bearer(Token);
            s.StatusCodeShouldBe(400);
        })).ProblemAsync(400);
        Assert.Contains("at most 50 distinct fields", (string)problem["errors"]!["samples"]![0]!);
        await Api.Scenario(s =>
        {
            s.Patch.Json(new { append_telemetry_sample = Fields("g", 0, 11, 1) }).ToUrl((string)run["uri"]!);
            s.Bearer(Token);
            s.StatusCodeShouldBe(400);
        });
        Assert.Equal((int)before["version"]!, (int)(await Read(run))["version"]!);
        Assert.Equal(telemetry.ToJsonString(), (await Read(run, "/telemetry")).ToJsonString());

        await Record(run, new { samples = new[] { Fields("f", 0, 50, 4) } });
        await Record(run, new { samples = new[] { Fields("f", 10, 20, 5) } });
        await AssertUnchangedAndFinishable(run, await Read(run), await Read(run, "/telemetry"));
    }

    [Fact]
    public async Task The_reviewers_flood_of_new_field_names_is_refused_at_once()
    {
        var run = await Api.TriggerAsync(Token);
        var before = await Read(run);
        var telemetry = await Read(run, "/telemetry");
        var start = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var samples = Enumerable.Range(0, 1000).Select(j =>
        {
            var sample = Fields($"f0_{j}_", 0, 50, 1.0);
            sample["at"] = start.AddSeconds(j).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
            return sample;
        });

        await Record(run, new { samples }, 400);

        await AssertUnchangedAndFinishable(run, before, telemetry);
    }

    [Theory]
    [InlineData("telemetry")]
    [InlineData("patch")]
    [InlineData("succeed")]
    public async Task The_merged_summary_holds_at_most_100_keys_on_every_path(string path)
    {
        var run = await Api.TriggerAsync(Token);
        await Api.CommandAsync(Token, run, "start");
        await Record(run, new { summary = Fields("k", 0, 60, 1) });
        await Record(run, new { summary = Fields("k", 60, 40, 1) });
        var before = await Read(run);
        var telemetry = await Read(run, "/telemetry");

        var problem = await (await SendSummary(run, path, Fields("k", 99, 2, 2), 400)).ProblemAsync(400);

        Assert.Contains("at most 100 keys", (string)problem["errors"]!["telemetry_summary"]![0]!);
        Assert.Equal((int)before["version"]!, (int)(await Read(run))["version"]!);
        Assert.Equal(telemetry.ToJsonString(), (await Read(run, "/telemetry")).ToJsonString());
        // Replacing keys it already has is fine (and for "succeed" finishes the run).
        await SendSummary(run, path, Fields("k", 0, 100, 3), 200);
        Assert.Equal(3, (int)(await Read(run, "/telemetry"))["summary"]!["k99"]!);
    }

    [Theory]
    [InlineData("telemetry")]
    [InlineData("patch")]
    [InlineData("succeed")]
    public async Task The_merged_summary_holds_at_most_64_KiB_on_every_path(string path)
    {
        var run = await Api.TriggerAsync(Token);
        await Api.CommandAsync(Token, run, "start");
        var tenKilobytes = new string('x', 10_000);
        for (var i = 0; i < 6; i++)
        {
            await Record(run, new { summary = Fields("part", i, 1, tenKilobytes) });
        }
        var before = await Read(run);
        var telemetry = await Read(run, "/telemetry");

        var problem = await (await SendSummary(run, path, Fields("part", 6, 1, tenKilobytes), 400)).ProblemAsync(400);

        Assert.Contains("at most 65536 bytes", (string)problem["errors"]!["telemetry_summary"]![0]!);
        await AssertUnchangedAndFinishable(run, before, telemetry);
    }

    [Fact]
    public async Task The_reviewers_bloat_request_is_refused_at_once()
    {
        var run = await Api.TriggerAsync(Token);
        var before = await Read(run);
        var telemetry = await Read(run, "/telemetry");

        await Record(run, new { summary = Fields("k1_", 0, 100, new string('x', 9500)) }, 400);

        await AssertUnchangedAndFinishable(run, before, telemetry);
    }

    [Theory]
    [InlineData("{\"summary\":{\"deep\":DEEP}}", "summary.deep")]
    [InlineData("{\"summary\":{\"resource\":{\"cpu\":[DEEP]}}}", "summary.resource")]
    [InlineData("{\"summary\":{\"tiny\":1e-20000}}", "summary.tiny")]
    [InlineData("{\"summary\":{\"huge\":1e400}}", "summary.numbers")]
    [InlineData("{\"summary\":{\"resource\":{\"cpu\":1e200000}}}", "summary.resource")]
    [InlineData("{\"samples\":[{\"cpu\":1},{\"cpu\":1e-20000}]}", "samples[1].cpu")]
    [InlineData("{\"samples\":[{\"cpu\":1e400}]}", "samples[0]")]
    public async Task Json_too_deep_or_numbers_PostgreSQL_cannot_hold_are_400_naming_the_field(string body, string field)
    {
        var run = await Api.TriggerAsync(Token);
        var before = await Read(run);
        var telemetry = await Read(run, "/telemetry");

        var result = await Api.PostTextAsync(Token, $"{run["uri"]}/telemetry", body.Replace("DEEP", Nested(33)), "application/json", 400);

        var errors = (await result.ProblemAsync(400))["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), $"expected '{field}' in {errors.ToJsonString()}");
        await AssertUnchangedAndFinishable(run, before, telemetry);
    }

    [Fact]
    public async Task Summary_values_nested_32_deep_are_kept_and_read_back_everywhere()
    {
        var run = await Api.TriggerAsync(Token);
        await Api.Scenario(s =>
        {
            s.Patch.Text($"{{\"telemetry_summary\":{{\"deep\":{Nested(32)}}}}}").ToUrl((string)run["uri"]!);
            s.WithRequestHeader("Content-Type", "application/json");
            s.Bearer(Token);
        });
        await Api.Scenario(s =>
        {
            s.Patch.Text($"{{\"telemetry_summary\":{{\"deeper\":{Nested(33)}}}}}").ToUrl((string)run["uri"]!);
            s.WithRequestHeader("Content-Type", "application/json");
            s.Bearer(Token);
            s.StatusCodeShouldBe(400);
        });

        Assert.Equal(Nested(32), (await Read(run, "/telemetry"))["summary"]!["deep"]!.ToJsonString());
        Assert.Null((await Read(run, "/telemetry"))["summary"]!["deeper"]);
        await AssertUnchangedAndFinishable(run, await Read(run), await Read(run, "/telemetry"));
    }
}


namespace Runs.Host.Tests;

[Collection(DefaultCollection.Name)]
public sealed class TriggeringTests(DefaultHost fixture) : HostSpecification<DefaultHost>(fixture, "tester")
{
    [Fact]
    public async Task Trigger_answers_201_with_location_and_the_pending_run()
    {
        var result = await Api.Scenario(s =>
        {
            s.Post.Json(new { trigger = "schedule", source = "cli", argv = new[] { "make", "all" }, labels = new { team = "data" } })
                .ToUrl("/v1/jobs/nightly-etl/runs");
            s.Bearer(Token);
            s.StatusCodeShouldBe(201);
        });

        var run = await result.Json();
        var id = (string)run["id"]!;
        Assert.Matches("^[0-9]{8}-[0-9]{6}-[0-9a-f]{16}$", id);
        Assert.Equal($"/v1/jobs/nightly-etl/runs/{id}", result.Context.Response.Headers.Location.ToString());
        Assert.Equal("pending", (string)run["status"]!);
        Assert.Equal("schedule", (string)run["trigger"]!);
        Assert.Equal("cli", (string)run["source"]!);
        Assert.Equal("tester", (string)run["created_by"]!);
        Assert.Equal("data", (string)run["labels"]!["team"]!);
        Assert.Equal(id, (string)run["name"]!);
        Assert.Null(run["duration"]);
        Assert.True(run.AsObject().ContainsKey("started_on"));
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", (string)run["created_on"]!);
    }

    [Fact]
    public async Task The_triggered_run_can_be_read_back_with_its_etag()
    {
        var run = await Api.TriggerAsync(Token, body: new { command = "echo hi", entrypoint = "/bin/sh" });

        var result = await Api.Scenario(s =>
        {
            s.Get.Url((string)run["uri"]!);
            s.Bearer(Token);
        });

        var read = await result.Json();
        Assert.Equal((string)run["id"]!, (string)read["id"]!);
        Assert.Equal("echo hi", (string)read["command"]!);
        Assert.Equal("/bin/sh", (string)read["entrypoint"]!);
        Assert.Equal("\"1\"", result.Context.Response.Headers.ETag.ToString());
    }

    [Fact]
    public async Task Unknown_fields_are_ignored()
    {
        var run = await Api.TriggerAsync(Token, body: new { source = "cli", colour = "blue", nested = new { a = 1 } });
        Assert.Equal("cli", (string)run["source"]!);
        Assert.False(run.AsObject().ContainsKey("colour"));
    }

    [Fact]
    public async Task An_empty_json_body_is_400()
    {
        var result = await Api.PostTextAsync(Token, "/v1/jobs/nightly/runs", "", "application/json", 400);
        var problem = await result.ProblemAsync(400);
        Assert.NotNull(problem["errors"]);
    }

    [Fact]
    public async Task Malformed_json_is_400()
    {
        var result = await Api.PostTextAsync(Token, "/v1/jobs/nightly/runs", "{\"argv\": [", "application/json", 400);
        await result.ProblemAsync(400);
    }

    [Fact]
    public async Task A_wrong_type_is_400_naming_the_field()
    {
        var result = await Api.PostTextAsync(Token, "/v1/jobs/nightly/runs", "{\"argv\": \"not-an-array\"}", "application/json", 400);
        var problem = await result.ProblemAsync(400);
        Assert.NotNull(problem["errors"]!["argv"]);
    }

    [Fact]
    public async Task Another_media_type_is_415()
    {
        var result = await Api.PostTextAsync(Token, "/v1/jobs/nightly/runs", "trigger=api", "application/x-www-form-urlencoded", 415);
        await result.ProblemAsync(415);
    }

    [Theory]
    [InlineData("Nightly")]
    [InlineData("-nightly")]
    [InlineData("night%20ly")]
    public async Task A_job_name_that_is_not_a_slug_is_400(string job)
    {
        var result = await Api.Scenario(s =>
        {
            s.Post.Json(new { }).ToUrl($"/v1/jobs/{job}/runs");
            s.Bearer(Token);
            s.StatusCodeShouldBe(400);
        });
        var problem = await result.ProblemAsync(400);
        Assert.NotNull(problem["errors"]!["job"]);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413()
    {
        var big = new StringBuilder("{\"source\":\"").Append('x', 1024 * 1024 + 10).Append("\"}").ToString();
        var result = await Api.PostTextAsync(Token, "/v1/jobs/nightly/runs", big, "application/json", 413);
        await result.ProblemAsync(413);
    }

    [Fact]
    public async Task Secret_env_values_are_masked_and_never_stored_in_clear()
    {
        var run = await Api.TriggerAsync(Token, body: new
        {
            env = new object[]
            {
                new { key = "DB_PASSWORD", value = "hunter2-very-secret", secret = true },
                new { key = "MODE", value = "full" },
            },
        });

        var env = run["env"]!.AsArray();
        Assert.Equal("********", (string)env[0]!["value"]!);
        Assert.Equal("full", (string)env[1]!["value"]!);

        await using var connection = new Npgsql.NpgsqlConnection(Fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "select count(*) from runs.mt_events where data::text like '%hunter2%' " +
            "union all select count(*) from runs.mt_doc_run where data::text like '%hunter2%'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            Assert.Equal(0L, reader.GetInt64(0));
        }
    }
}

[Collection(DefaultCollection.Name)]
public sealed class TriggerValidationTests(DefaultHost fixture) : HostSpecification<DefaultHost>(fixture, "tester")
{
    public static TheoryData<string, string> InvalidBodies() => new()
    {
        { "{\"trigger\":\"cron\"}", "trigger" },
        { "{\"argv\":[\"a\"],\"command\":\"b\"}", "command" },
        { "{\"argv\":" + System.Text.Json.JsonSerializer.Serialize(Enumerable.Repeat("x", 201)) + "}", "argv" },
        { "{\"argv\":[\"" + new string('x', 8001) + "\"]}", "argv" },
        { "{\"command\":\"" + new string('x', 4001) + "\"}", "command" },
        { "{\"entrypoint\":\"" + new string('x', 501) + "\"}", "entrypoint" },
        { "{\"env\":[{\"key\":\"1BAD\",\"value\":\"x\"}]}", "env[0].key" },
        { "{\"env\":[{\"key\":\"A\",\"value\":\"x\"},{\"key\":\"A\",\"value\":\"y\"}]}", "env" },
        { "{\"env\":[{\"key\":\"A\"}]}", "env[0].value" },
        { "{\"labels\":{\"k\":5}}", "labels.k" },
        { "{\"previous_run\":\"yesterday\"}", "previous_run" },
        { "[1,2,3]", "body" },
        { "{\"env\":[null]}", "env[0]" },
        { "null", "body" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Invalid_trigger_bodies_are_400_naming_the_field(string body, string field)
    {
        var result = await Api.PostTextAsync(Token, "/v1/jobs/nightly/runs", body, "application/json", 400);
        var problem = await result.ProblemAsync(400);
        Assert.True(problem["errors"]!.AsObject().ContainsKey(field),
            $"expected an error for '{field}' in {problem["errors"]!.ToJsonString()}");
    }
}

/// <summary>A run's input is stored as sent, so it is capped in bytes and depth and its numbers must fit PostgreSQL, on both trigger paths.</summary>
[Collection(DefaultCollection.Name)]
public sealed class InputLimitTests(DefaultHost fixture) : HostSpecification<DefaultHost>(fixture, "tester")
{
    private static string Nested(int depth) => new string('[', depth) + new string(']', depth);

    /// <summary>A string input whose compact JSON (with its quotes) is exactly this many bytes.</summary>
    private static string InputOfBytes(int bytes) => "\"" + new string('x', bytes - 2) + "\"";

    public static TheoryData<string> RefusedInputs() => new()
    {
        Nested(33),
        Nested(63),
        "{\"a\":{\"b\":" + Nested(31) + "}}",
        "1e200000",
        "{\"rows\":[1,2,1e-20000]}",
        InputOfBytes(64 * 1024 + 1),
    };

    private async Task<HttpResponseMessage> TriggerForm(string job, params (string Name, string Value)[] parts)
    {
        using var form = new MultipartFormDataContent();
        foreach (var (name, value) in parts)
        {
            form.Add(new StringContent(value), name);
        }
        var client = Api.Server.CreateClient();
        client.DefaultRequestHeaders.Add("Authorization", $"Bearer {Token}");
        return await client.PostAsync($"/v1/jobs/{job}/runs", form);
    }

    private async Task AssertNoRunFor(string job) =>
        await Api.Scenario(s => { s.Get.Url($"/v1/jobs/{job}/runs"); s.Bearer(Token); s.StatusCodeShouldBe(404); });

    [Theory]
    [MemberData(nameof(RefusedInputs))]
    public async Task An_input_too_deep_too_large_or_with_numbers_PostgreSQL_cannot_hold_is_400_and_starts_no_run(string input)
    {
        var job = $"input-{Guid.NewGuid():N}";
        var result = await Api.PostTextAsync(Token, $"/v1/jobs/{job}/runs", $"{{\"input\":{input}}}", "application/json", 400);

        var problem = await result.ProblemAsync(400);
        Assert.True(problem["errors"]!.AsObject().ContainsKey("input"), problem["errors"]!.ToJsonString());
        await AssertNoRunFor(job);
    }

    [Theory]
    [MemberData(nameof(RefusedInputs))]
    public async Task The_same_inputs_are_refused_from_a_multipart_trigger_as_a_part_or_inside_the_run_part(string input)
    {
        var job = $"input-{Guid.NewGuid():N}";
        foreach (var response in new[] { await TriggerForm(job, ("input", input)), await TriggerForm(job, ("run", $"{{\"input\":{input}}}")) })
        {
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
            var problem = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.True(problem["errors"]!.AsObject().ContainsKey("input"), problem["errors"]!.ToJsonString());
        }
        await AssertNoRunFor(job);
    }

    [Fact]
    public async Task Inputs_at_the_limits_are_kept_as_sent()
    {
        var deep = await Api.TriggerAsync(Token, "inputs", System.Text.Json.JsonSerializer.Deserialize<object>($"{{\"input\":{Nested(32)}}}"));
        Assert.Equal(Nested(32), deep["input"]!.ToJsonString());

        var response = await TriggerForm("inputs", ("input", InputOfBytes(64 * 1024)));
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        var run = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(64 * 1024 - 2, ((string)run["input"]!).Length);

        var events = await (await Api.Scenario(s => { s.Get.Url($"{deep["uri"]}/events"); s.Bearer(Token); })).Json();
        Assert.Equal(Nested(32), events["events"]![0]!["data"]!["input"]!.ToJsonString());
    }
}


namespace Runs.Host.Tests;

[Collection(DefaultCollection.Name)]
public sealed class IdempotencyAndFilesTests(DefaultHost fixture) : HostSpecification<DefaultHost>(fixture, "tester")
{
    private Task<IScenarioResult> TriggerWithKey(string key, object body, int status, string? token = null, string job = "nightly") =>
        Api.Scenario(s =>
        {
            s.Post.Json(body).ToUrl($"/v1/jobs/{job}/runs");
            s.WithRequestHeader("Idempotency-Key", key);
            s.Bearer(token ?? Token);
            s.StatusCodeShouldBe(status);
        });

    [Fact]
    public async Task The_same_key_and_body_returns_the_first_run()
    {
        var first = await TriggerWithKey("deploy-1", new { source = "ci" }, 201);
        var second = await TriggerWithKey("deploy-1", new { source = "ci" }, 201);

        Assert.Equal(await first.ReadAsTextAsync(), await second.ReadAsTextAsync());
        Assert.Equal(first.Context.Response.Headers.Location.ToString(), second.Context.Response.Headers.Location.ToString());
        await using var session = Fixture.Store.QuerySession();
        Assert.Equal(1, await Marten.QueryableExtensions.CountAsync(session.Query<global::Runs.Domain.Run>()));
    }

    [Fact]
    public async Task The_same_json_with_other_spacing_replays_with_its_etag()
    {
        Task<IScenarioResult> Trigger(string json) => Api.Scenario(s =>
        {
            s.Post.Text(json).ToUrl("/v1/jobs/nightly/runs");
            s.WithRequestHeader("Content-Type", "application/json");
            s.WithRequestHeader("Idempotency-Key", "spacing");
            s.Bearer(Token);
            s.StatusCodeShouldBe(201);
        });

        var first = await Trigger("{\"source\":\"a\"}");
        var second = await Trigger("{ \"source\" : \"a\" }");
        Assert.Equal(await first.ReadAsTextAsync(), await second.ReadAsTextAsync());
        Assert.Equal("\"1\"", second.Context.Response.Headers.ETag.ToString());
    }

    [Fact]
    public async Task The_same_key_with_another_body_is_409()
    {
        await TriggerWithKey("deploy-2", new { source = "ci" }, 201);
        var result = await TriggerWithKey("deploy-2", new { source = "laptop" }, 409);
        await result.ProblemAsync(409);
    }

    [Fact]
    public async Task Keys_are_per_token_and_per_job()
    {
        var other = await Fixture.TokenAsync("other");
        var mine = await (await TriggerWithKey("k", new { }, 201)).Json();
        var theirs = await (await TriggerWithKey("k", new { }, 201, other)).Json();
        var otherJob = await (await TriggerWithKey("k", new { }, 201, job: "weekly")).Json();

        Assert.NotEqual((string)mine["id"]!, (string)theirs["id"]!);
        Assert.NotEqual((string)mine["id"]!, (string)otherJob["id"]!);
    }

    [Fact]
    public async Task Concurrent_retries_with_one_key_start_one_run()
    {
        var attempts = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs/nightly/runs")
            {
                Content = new StringContent("{\"source\":\"retry\"}", Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("Idempotency-Key", "storm");
            return Client.SendAsync(request);
        }));

        Assert.All(attempts, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.Conflict }));
        await using var session = Fixture.Store.QuerySession();
        Assert.Equal(1, await Marten.QueryableExtensions.CountAsync(session.Query<global::Runs.Domain.Run>()));
    }

    [Fact]
    public async Task A_multipart_trigger_keeps_input_files_under_their_names()
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent("{\"source\":\"upload\",\"labels\":{\"k\":\"v\"}}"), "run" },
        };
        var csv = new ByteArrayContent(Encoding.UTF8.GetBytes("a,b\n1,2\n"));
        csv.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(csv, "files", "data.csv");
        form.Add(new ByteArrayContent([0, 1, 2, 255]), "more", "blob.bin");

        var response = await Client.PostAsync("/v1/jobs/nightly/runs", form);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var run = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("upload", (string)run["source"]!);
        var files = run["input_files"]!.AsArray();
        Assert.Equal(["data.csv", "blob.bin"], files.Select(f => (string)f!["name"]!));
        Assert.Equal(8, (int)files[0]!["size"]!);
        Assert.Equal("text/csv", (string)files[0]!["content_type"]!);

        var download = await Client.GetAsync($"{run["uri"]}/input/data.csv");
        Assert.Equal("a,b\n1,2\n", await download.Content.ReadAsStringAsync());
        Assert.Equal("text/csv", download.Content.Headers.ContentType!.MediaType);
        var blob = await Client.GetByteArrayAsync($"{run["uri"]}/input/blob.bin");
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, blob);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync($"{run["uri"]}/input/missing.txt")).StatusCode);
    }

    [Fact]
    public async Task Multipart_fields_can_be_sent_one_part_each()
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent("schedule"), "trigger" },
            { new StringContent("[\"make\",\"test\"]"), "argv" },
            { new StringContent("[{\"key\":\"A\",\"value\":\"1\"}]"), "env" },
        };

        var response = await Client.PostAsync("/v1/jobs/nightly/runs", form);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var run = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("schedule", (string)run["trigger"]!);
        Assert.Equal(["make", "test"], run["argv"]!.AsArray().Select(a => (string)a!));
    }

    [Fact]
    public async Task A_multipart_part_that_is_not_json_where_json_is_needed_is_400()
    {
        using var form = new MultipartFormDataContent { { new StringContent("not json"), "env" } };

        var response = await Client.PostAsync("/v1/jobs/nightly/runs", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Expired_keys_are_cleaned_up_and_no_longer_replay()
    {
        var first = await (await TriggerWithKey("old-key", new { }, 201)).Json();
        await using (var session = Fixture.Store.LightweightSession())
        {
            var record = await Marten.QueryableExtensions.SingleAsync(session.Query<global::Runs.Host.Runs.IdempotentAnswer>());
            record.ExpiresOn = DateTimeOffset.UtcNow.AddMinutes(-1);
            session.Store(record);
            await session.SaveChangesAsync();
        }

        var again = await (await TriggerWithKey("old-key", new { }, 201)).Json();
        Assert.NotEqual((string)first["id"]!, (string)again["id"]!);

        await using (var session = Fixture.Store.LightweightSession())
        {
            var record = await Marten.QueryableExtensions.SingleAsync(session.Query<global::Runs.Host.Runs.IdempotentAnswer>());
            record.ExpiresOn = DateTimeOffset.UtcNow.AddMinutes(-1);
            session.Store(record);
            await session.SaveChangesAsync();
        }
        await global::Runs.Host.Runs.IdempotencyCleanup.RemoveExpiredAsync(Fixture.Store, DateTimeOffset.UtcNow, default);
        await using var check = Fixture.Store.QuerySession();
        Assert.Equal(0, await Marten.QueryableExtensions.CountAsync(check.Query<global::Runs.Host.Runs.IdempotentAnswer>()));
    }

    [Fact]
    public async Task An_idempotency_key_that_is_too_long_is_400()
    {
        var result = await TriggerWithKey(new string('k', 300), new { }, 400);
        await result.ProblemAsync(400);
    }
}


namespace Runs.Host.Tests;

/// <summary>
/// A client whose write timed out cannot know whether it landed: with an Idempotency-Key it retries blindly,
/// gets the first answer again and changes nothing; the key reused for another request is a 409.
/// </summary>
[Collection(DefaultCollection.Name)]
public sealed class SafeRetryTests(DefaultHost fixture) : HostSpecification<DefaultHost>(fixture, "retrying-runner")
{
    // action, the state the run is brought to first, the body, another body
    public static TheoryData<string, string, string, string, string> Writes => new()
    {
        { "POST", "start", "pending", "{\"runner\":\"w1\"}", "{\"runner\":\"w2\"}" },
        { "POST", "log", "running", "{\"lines\":[{\"message\":\"once\"}]}", "{\"lines\":[{\"message\":\"twice\"}]}" },
        { "POST", "telemetry", "running", "{\"summary\":{\"rows\":1},\"samples\":[{\"cpu\":1}]}", "{\"summary\":{\"rows\":2}}" },
        { "PATCH", "", "running", "{\"append_log\":{\"message\":\"patched\"}}", "{\"append_log\":{\"message\":\"other\"}}" },
        { "POST", "succeed", "running", "{\"exit_code\":0}", "{\"exit_code\":1}" },
        { "POST", "fail", "running", "{\"error_summary\":\"boom\"}", "{\"error_summary\":\"bang\"}" },
        { "POST", "cancel", "running", "{\"reason\":\"stop\"}", "{\"reason\":\"halt\"}" },
        { "POST", "pause", "running", "{\"reason\":\"wait\"}", "{\"reason\":\"hold\"}" },
        { "POST", "continue", "paused", "", "{}" },
        { "POST", "reject", "pending", "{\"reason\":\"no\"}", "{\"reason\":\"nope\"}" },
    };

    [Theory]
    [MemberData(nameof(Writes))]
    public async Task A_retried_write_answers_as_the_first_did_and_changes_nothing(string method, string action, string state, string body, string other)
    {
        var run = await RunIn(state);
        var url = action == "" ? (string)run["uri"]! : $"{run["uri"]}/{action}";

        var first = await Send(method, url, body, "key-1");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var firstBody = await first.Content.ReadAsStringAsync();
        var events = await EventCount(run);
        var lines = await (await Client.GetAsync($"{run["uri"]}/log")).Content.ReadAsStringAsync();

        var retry = await Send(method, url, body, "key-1");
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(first.Headers.ETag, retry.Headers.ETag);
        Assert.Equal(JsonNode.Parse(firstBody)!.ToJsonString(), JsonNode.Parse(await retry.Content.ReadAsStringAsync())!.ToJsonString());
        Assert.Equal(events, await EventCount(run));
        Assert.Equal(lines, await (await Client.GetAsync($"{run["uri"]}/log")).Content.ReadAsStringAsync());

        var reused = await Send(method, url, other, "key-1");
        Assert.Equal(HttpStatusCode.Conflict, reused.StatusCode);
        Assert.Contains("Idempotency-Key", await reused.Content.ReadAsStringAsync());
        Assert.Equal(events, await EventCount(run));
    }

    [Fact]
    public async Task A_retried_output_upload_stores_the_output_once()
    {
        var run = await RunIn("running");
        HttpContent Output()
        {
            var content = new ByteArrayContent("report"u8.ToArray());
            content.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = "report.txt" };
            content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
            return content;
        }
        var first = await Put($"{run["uri"]}/output", Output(), "upload-1");
        var events = await EventCount(run);
        var retry = await Put($"{run["uri"]}/output", Output(), "upload-1");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(events, await EventCount(run));
        Assert.Equal("report", await Client.GetStringAsync($"{run["uri"]}/output"));
    }

    [Fact]
    public async Task Concurrent_retries_of_one_log_append_store_its_lines_once()
    {
        var run = await RunIn("running");
        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            Send("POST", $"{run["uri"]}/log", "{\"lines\":[{\"message\":\"only once\"}]}", "append-7")));

        // Each is the first answer, a replay of it, or a 409 asking to retry (a twin was committing).
        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict, a.StatusCode.ToString()));
        Assert.Contains(answers, a => a.StatusCode == HttpStatusCode.OK);
        var log = await Client.GetStringAsync($"{run["uri"]}/log");
        Assert.Single(log.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task A_key_is_per_run_so_the_same_key_on_another_run_is_a_new_request()
    {
        var one = await RunIn("running");
        var two = await RunIn("running");
        Assert.Equal(HttpStatusCode.OK, (await Send("POST", $"{one["uri"]}/log", "{\"lines\":[{\"message\":\"a\"}]}", "shared")).StatusCode);
        var other = await Send("POST", $"{two["uri"]}/log", "{\"lines\":[{\"message\":\"a\"}]}", "shared");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.False(other.Headers.Contains("Idempotent-Replayed"));
    }

    private async Task<JsonNode> RunIn(string state)
    {
        var created = await Client.PostAsync("/v1/jobs/retries/runs", new StringContent("{}", Encoding.UTF8, "application/json"));
        var run = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        if (state is "running" or "paused")
        {
            Assert.Equal(HttpStatusCode.OK, (await Send("POST", $"{run["uri"]}/start", "", null)).StatusCode);
        }
        if (state == "paused")
        {
            Assert.Equal(HttpStatusCode.OK, (await Send("POST", $"{run["uri"]}/pause", "{\"reason\":\"r\"}", null)).StatusCode);
        }
        return run;
    }

    private Task<HttpResponseMessage> Send(string method, string url, string body, string? key)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (body != "")
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }
        return Client.SendAsync(request);
    }

    private Task<HttpResponseMessage> Put(string url, HttpContent content, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = content };
        request.Headers.Add("Idempotency-Key", key);
        return Client.SendAsync(request);
    }

    private async Task<int> EventCount(JsonNode run) =>
        JsonNode.Parse(await Client.GetStringAsync($"{run["uri"]}/events"))!["events"]!.AsArray().Count;
}

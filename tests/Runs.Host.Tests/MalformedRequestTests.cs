
namespace Runs.Host.Tests;

/// <summary>Requests no client should send get a 4xx that says what is wrong, and change nothing.</summary>
[Collection(DefaultCollection.Name)]
public sealed class MalformedRequestTests(DefaultHost fixture) : HostSpecification<DefaultHost>(fixture, "sloppy-client")
{
    // A request ({run} is a fresh run's path, {running} a started one's) with, for a POST, its JSON body; the
    // field its 400 must name. Among them U+0000 (%00, \u0000), which PostgreSQL text cannot hold, in query
    // values and in strings of every kind a body carries.
    public static TheoryData<string, string?, string> Invalid => new()
    {
        { "GET {run}/events?page_size=0", null, "page_size" },
        { "GET {run}/events?page_size=-1", null, "page_size" },
        { "GET {run}/events?page_token=garbage", null, "page_token" },
        { "GET {run}/events?filter=type%20%3D%20%22Exploded%22", null, "filter" },
        { "GET {run}/events?filter=status%20%3D%20failed", null, "filter" },
        { "GET {run}/log?level=loud", null, "level" },
        { "GET {run}/log?limit=0", null, "limit" },
        { "GET {run}/log?limit=abc", null, "limit" },
        { "GET {run}/log?tail=-1", null, "tail" },
        { "GET {run}/log?after_id=-5", null, "after_id" },
        { "GET {run}/log?limit=2&tail=2", null, "tail" },
        { "GET /v1/logs/search?", null, "q" },
        { "GET /v1/logs/search?q=ab", null, "q" },
        { "GET /v1/logs/search?q=abc&level=loud", null, "level" },
        { "GET /v1/logs/search?q=abc&page_size=0", null, "page_size" },
        { "GET /v1/logs/search?q=abc&page_size=ten", null, "page_size" },
        { "GET /v1/logs/search?q=abc&page_token=nonsense", null, "page_token" },
        { "GET /v1/logs/search?q=abc&filter=status%20%3D", null, "filter" },
        { "GET /v1/logs/search?q=abc&filter=colour%20%3D%20%22red%22", null, "filter" },
        { "GET /v1/logs/search?q=ab%00c", null, "q" },
        { "GET /v1/runs?filter=source%20%3D%20%22a%00b%22", null, "filter" },
        { "GET /v1/runs?fil%00ter=x", null, "fil\\u0000ter" },
        { "GET /v1/logs/search?q=abc&filter=labels.team%20%3D%20%22%00%22", null, "filter" },
        { "GET /v1/stats/daily?time_zone=UTC&filter=job%20%3D%20%22a%00b%22", null, "filter" },
        { "GET /v1/stats/daily", null, "time_zone" },
        { "GET /v1/stats/daily?time_zone=Mars/Olympus", null, "time_zone" },
        { "GET /v1/stats/daily?time_zone=UTC&start_date=2026-13-01", null, "start_date" },
        { "GET /v1/stats/daily?time_zone=UTC&start_date=2026-02-01&end_date=2026-01-01", null, "end_date" },
        { "GET /v1/stats/daily?time_zone=UTC&start_date=2020-01-01&end_date=2026-01-01", null, "start_date" },
        { "GET /v1/stats/daily?time_zone=UTC&filter=job%20%3D", null, "filter" },
        { "GET /v1/stats/daily?time_zone=UTC&end_date=0001-01-05", null, "end_date" },
        { "GET /v1/stats/daily?time_zone=UTC&start_date=0001-01-01&end_date=0001-01-31", null, "end_date" },
        { "GET /v1/stats/daily?time_zone=UTC&start_date=9999-12-30&end_date=9999-12-31", null, "end_date" },
        { "POST {running}/fail", "{}", "error_summary" },
        { "POST {running}/fail", "{\"error_summary\":\"\"}", "error_summary" },
        { "POST {running}/pause", "{}", "reason" },
        { "POST {run}/reject", "{\"reason\":null}", "reason" },
        { "POST {running}/succeed", "{\"exit_code\":1.5}", "exit_code" },
        { "POST {running}/succeed", "{\"exit_code\":\"zero\"}", "exit_code" },
        { "POST {run}/start", "{\"at\":\"yesterday\"}", "at" },
        { "POST {run}/start", "{\"runner\":42}", "runner" },
        { "POST {running}/succeed", "{\"telemetry_summary\":{\"progress\":101}}", "telemetry_summary.progress" },
        { "POST {run}/log", "{}", "lines" },
        { "POST {run}/log", "{\"lines\":[{\"level\":\"loud\",\"message\":\"x\"}]}", "lines[0].level" },
        { "POST {run}/log", "{\"lines\":[{\"level\":\"info\"}]}", "lines[0].message" },
        { "POST {run}/log", "{\"lines\":[{\"message\":\"x\",\"at\":\"noon\"}]}", "lines[0].at" },
        { "POST {run}/log", "{\"lines\":\"x\"}", "lines" },
        { "POST {run}/telemetry", "{\"summary\":{\"progress\":120}}", "summary.progress" },
        { "POST {run}/telemetry", "{\"summary\":{\"rows\":-1}}", "summary.rows" },
        { "POST {run}/telemetry", "{\"summary\":{\"bytes\":\"lots\"}}", "summary.bytes" },
        { "POST {run}/telemetry", "{\"samples\":[{\"cpu\":\"high\"}]}", "samples[0]" },
        { "POST {run}/telemetry", "{\"samples\":[{\"at\":\"yesterday\",\"cpu\":1}]}", "samples[0]" },
        { "POST {run}/telemetry", "{}", "body" },
        { "POST /v1/tokens", "{\"scopes\":[\"runs:read\"],\"jobs\":[\"*\"]}", "name" },
        { "POST /v1/tokens", "{\"name\":\"x\",\"scopes\":[\"root\"],\"jobs\":[\"*\"]}", "scopes" },
        { "POST /v1/tokens", "{\"name\":\"x\",\"scopes\":[],\"jobs\":[\"*\"]}", "scopes" },
        { "POST /v1/tokens", "{\"name\":\"x\",\"scopes\":[\"runs:read\"],\"jobs\":[\"Bad Job\"]}", "jobs" },
        { "POST /v1/tokens", "{\"name\":\"x\",\"scopes\":[\"runs:read\"],\"jobs\":[\"*\"],\"expires_at\":\"2001-01-01T00:00:00Z\"}", "expires_at" },
        { "POST /v1/tokens", "{\"name\":\"x\",\"scopes\":\"runs:read\",\"jobs\":[\"*\"]}", "scopes" },
        { "POST /v1/webhooks", "{\"url\":\"ftp://example.com/x\",\"events\":[\"run.failed\"]}", "url" },
        { "POST /v1/webhooks", "{\"url\":\"not a url\",\"events\":[\"run.failed\"]}", "url" },
        { "POST /v1/webhooks", "{\"url\":\"https://user:pw@example.com/x\",\"events\":[\"run.failed\"]}", "url" },
        { "POST /v1/webhooks", "{\"url\":\"https://example.com/x\",\"events\":[\"run.exploded\"]}", "events" },
        { "POST /v1/webhooks", "{\"url\":\"https://example.com/x\",\"events\":[]}", "events" },
        { "POST /v1/webhooks", "{\"url\":\"https://example.com/x\",\"events\":[\"run.failed\"],\"jobs\":[\"Bad Job\"]}", "jobs" },
        { "POST /v1/webhooks", "{\"url\":\"https://example.com/x\",\"events\":[\"run.failed\"],\"description\":\"a\\u0000\"}", "description" },
        { "POST /v1/webhooks", "{\"url\":\"https://" + WebhookTests.LongHost + "/\",\"events\":[\"run.failed\"]}", "url" },
        { "POST /v1/jobs/nightly/runs", "{\"source\":\"a\\u0000b\"}", "source" },
        { "POST /v1/jobs/nightly/runs", "{\"labels\":{\"team\":\"a\\u0000\"}}", "labels.team" },
        { "POST /v1/jobs/nightly/runs", "{\"input\":{\"k\":[\"\\u0000\"]}}", "input" },
        { "POST /v1/jobs/nightly/runs", "{\"labels\":{\"te\\u0000am\":\"a\"}}", "labels.te\\u0000am" },
        { "POST /v1/jobs/nightly/runs", "{\"input\":{\"k\\u0000\":1}}", "input" },
        { "POST /v1/jobs/nightly/runs", "{\"argv\":[\"a\",\"\\u0000\"]}", "argv[1]" },
        { "POST /v1/jobs/nightly/runs", "{\"env\":[{\"key\":\"K\",\"value\":\"\\u0000\",\"secret\":true}]}", "env[0].value" },
        { "POST {run}/start", "{\"runner\":\"r\\u0000\"}", "runner" },
        { "POST {running}/cancel", "{\"reason\":\"\\u0000\"}", "reason" },
        { "POST {run}/log", "{\"lines\":[{\"message\":\"a\\u0000b\"}]}", "lines[0].message" },
        { "POST {run}/telemetry", "{\"summary\":{\"phase\":\"a\\u0000\"}}", "summary.phase" },
        { "POST /v1/jobs/nightly/runs", "{\"input\":{\"k\":\"\\ud800\"}}", "input" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public async Task Invalid_parameters_and_bodies_are_400_naming_the_field(string request, string? body, string field)
    {
        var run = await Api.TriggerAsync(Token);
        if (request.Contains("{running}"))
        {
            await Api.CommandAsync(Token, run, "start");
        }
        var (method, url) = (request.Split(' ')[0], request.Split(' ')[1].Replace("{run}", (string)run["uri"]!).Replace("{running}", (string)run["uri"]!));
        var result = await Api.Scenario(s =>
        {
            if (method == "GET")
            {
                s.Get.Url(url);
            }
            else
            {
                s.Post.Text(body!).ToUrl(url);
                s.WithRequestHeader("Content-Type", "application/json");
            }
            s.Bearer(Token);
            s.StatusCodeShouldBe(400);
        });
        var errors = (await result.ProblemAsync(400))["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), $"expected '{field}' in {errors.ToJsonString()}");
    }

    [Fact]
    public async Task A_NUL_in_a_multipart_trigger_field_is_400_naming_the_field()
    {
        using var form = new MultipartFormDataContent { { new StringContent("a\0b"), "source" } };

        var answer = await Client.PostAsync("/v1/jobs/nightly/runs", form);

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        var errors = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("source"), errors.ToJsonString());
    }

    private static readonly string EighteenHeaderPart =
        "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n"
        + string.Concat(Enumerable.Range(0, 17).Select(i => $"X-H{i}: v\r\n")) + "\r\nabc\r\n--b--\r\n";

    public static TheoryData<string, string, string, string> Requests => new()
    {
        // method, route under the run ("" = trigger), Content-Type, body
        { "POST", "", "multipart/form-data; boundary=\"x", "x" },
        { "POST", "", "multipart/form-data", "x" },
        { "POST", "", "application/json; charset=\"utf-8", "{}" },
        { "POST", "/log", "text/plain; charset=\"utf-8", "x" },
        { "POST", "/log", "text/plain;;", "x" },
        { "POST", "/log", "text/plain; charset=no-such-charset", "x" },
        { "POST", "/telemetry", "application/json; =x", "{}" },
        { "PUT", "/output", "multipart/form-data; boundary=\"x", "x" },
        { "PUT", "/output", "multipart/form-data; boundary=b", EighteenHeaderPart },
        { "PUT", "/output", "text/plain; n=\u00e9", "x" },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task Malformed_content_types_and_bodies_are_4xx_problems_and_change_nothing(string method, string route, string contentType, string body)
    {
        var run = await Api.TriggerAsync(Token);
        var before = (int)run["version"]!;
        var uri = route == "" ? "/v1/jobs/nightly/runs" : $"{run["uri"]}{route}";
        if (method == "PUT")
        {
            await Api.CommandAsync(Token, run, "start");
            before++;
        }

        var request = new HttpRequestMessage(new HttpMethod(method), uri) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        var answer = await Client.SendAsync(request);

        Assert.True(answer.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnsupportedMediaType, $"{answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
        Assert.False(string.IsNullOrWhiteSpace((string?)JsonNode.Parse(await answer.Content.ReadAsStringAsync())!["detail"]));
        var after = JsonNode.Parse(await Client.GetStringAsync((string)run["uri"]!))!;
        Assert.Equal(before, (int)after["version"]!);
    }

    [Fact]
    public async Task A_multipart_trigger_whose_run_part_names_a_field_twice_is_400()
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent("{\"source\":\"a\",\"source\":\"b\"}"), "run" },
            { new StringContent("api"), "trigger" },
        };
        var answer = await Client.PostAsync("/v1/jobs/twice/runs", form);

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains("twice", await answer.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/v1/jobs/twice/runs")).StatusCode);
    }
}

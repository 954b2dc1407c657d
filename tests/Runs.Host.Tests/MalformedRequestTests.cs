
namespace Runs.Host.Tests;

/// <summary>Requests no client should send get a 4xx that says what is wrong, and change nothing.</summary>
[Collection(DefaultCollection.Name)]
public sealed class MalformedRequestTests(DefaultHost fixture) : IAsyncLifetime
{
    private readonly IAlbaHost _host = fixture.Host;
    private string _token = "";
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _token = await fixture.TokenAsync("sloppy-client");
        _client = _host.Server.CreateClient();
        _client.DefaultRequestHeaders.Add("Authorization", $"Bearer {_token}");
    }

    public Task DisposeAsync() => Task.CompletedTask;

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
        var run = await _host.TriggerAsync(_token);
        var before = (int)run["version"]!;
        var uri = route == "" ? "/v1/jobs/nightly/runs" : $"{run["uri"]}{route}";
        if (method == "PUT")
        {
            await _host.CommandAsync(_token, run, "start");
            before++;
        }

        var request = new HttpRequestMessage(new HttpMethod(method), uri) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        var answer = await _client.SendAsync(request);

        Assert.True(answer.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnsupportedMediaType, $"{answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
        Assert.False(string.IsNullOrWhiteSpace((string?)JsonNode.Parse(await answer.Content.ReadAsStringAsync())!["detail"]));
        var after = JsonNode.Parse(await _client.GetStringAsync((string)run["uri"]!))!;
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
        var answer = await _client.PostAsync("/v1/jobs/twice/runs", form);

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains("twice", await answer.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/v1/jobs/twice/runs")).StatusCode);
    }
}

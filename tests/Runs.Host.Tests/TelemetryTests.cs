using System.Text.Json.Nodes;
using Alba;
using Runs.Host.Access;
using Runs.Host.Tests.Harness;

namespace Runs.Host.Tests;

[Collection(LogsCollection.Name)]
public sealed class TelemetryTests(LogsHost fixture) : IAsyncLifetime
{
    private readonly IAlbaHost _host = fixture.Host;
    private string _token = "";

    public async Task InitializeAsync()
    {
        await fixture.ResetAsync();
        _token = await fixture.TokenAsync("runner", [Scopes.RunsRead, Scopes.RunsWrite]);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<JsonNode> Record(JsonNode run, object body, int status = 200) =>
        await (await _host.Scenario(s =>
        {
            s.Post.Json(body).ToUrl($"{run["uri"]}/telemetry");
            s.Bearer(_token);
            s.StatusCodeShouldBe(status);
        })).Json();

    [Fact]
    public async Task The_summary_is_shallow_merged_and_shown_on_the_run()
    {
        var run = await _host.TriggerAsync(_token);
        await Record(run, new { summary = new { rows = 10, phase = "extract", resource = new { cpu = 1 } } });
        var answer = await Record(run, new { summary = new { rows = 25, progress = 50, resource = new { mem = 2 } } });

        var summary = answer["summary"]!;
        Assert.Equal(25, (int)summary["rows"]!);
        Assert.Equal("extract", (string)summary["phase"]!);
        Assert.Equal(50, (int)summary["progress"]!);
        Assert.Null(summary["resource"]!["cpu"]);
        var read = await (await _host.Scenario(s => { s.Get.Url((string)run["uri"]!); s.Bearer(_token); })).Json();
        Assert.Equal(25, (int)read["telemetry_summary"]!["rows"]!);
    }

    [Fact]
    public async Task Samples_get_the_server_time_when_they_have_none()
    {
        var run = await _host.TriggerAsync(_token);
        await Record(run, new { samples = new object[] { new { cpu = 0.5 }, new { at = "2030-01-01T00:00:00Z", cpu = 0.7 } } });

        var telemetry = await (await _host.Scenario(s => { s.Get.Url($"{run["uri"]}/telemetry"); s.Bearer(_token); })).Json();
        var samples = telemetry["samples"]!.AsArray();
        Assert.Equal(2, samples.Count);
        Assert.NotNull(samples[0]!["at"]);
        Assert.Equal(0.7, (double)samples[1]!["cpu"]!);
    }

    [Fact]
    public async Task Past_the_cap_the_series_is_downsampled_keeping_both_ends()
    {
        var run = await _host.TriggerAsync(_token);
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

        var samples = (await (await _host.Scenario(s => { s.Get.Url($"{run["uri"]}/telemetry"); s.Bearer(_token); })).Json())["samples"]!.AsArray();
        Assert.True(samples.Count <= 20, $"{samples.Count} samples");
        Assert.True(samples.Count >= 10);
        Assert.Equal(start.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"), (string)samples[0]!["at"]!);
        Assert.Equal(start.AddSeconds(99).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"), (string)samples[^1]!["at"]!);
        Assert.Contains(samples, s => (int)s!["value"]! == 1000);
    }

    [Theory]
    [InlineData("{\"summary\":{\"progress\":120}}", "summary.progress")]
    [InlineData("{\"summary\":{\"rows\":-1}}", "summary.rows")]
    [InlineData("{\"summary\":{\"bytes\":\"lots\"}}", "summary.bytes")]
    [InlineData("{\"samples\":[{\"cpu\":\"high\"}]}", "samples[0]")]
    [InlineData("{\"samples\":[{\"at\":\"yesterday\",\"cpu\":1}]}", "samples[0]")]
    [InlineData("{}", "body")]
    public async Task Invalid_telemetry_is_400_naming_the_field(string body, string field)
    {
        var run = await _host.TriggerAsync(_token);
        var result = await _host.Scenario(s =>
        {
            s.Post.Text(body).ToUrl($"{run["uri"]}/telemetry");
            s.WithRequestHeader("Content-Type", "application/json");
            s.Bearer(_token);
            s.StatusCodeShouldBe(400);
        });
        var errors = (await result.ProblemAsync(400))["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), $"expected '{field}' in {errors.ToJsonString()}");
    }

    [Fact]
    public async Task Telemetry_after_the_run_ended_is_409()
    {
        var run = await _host.TriggerAsync(_token);
        await _host.CommandAsync(_token, run, "cancel");
        await Record(run, new { summary = new { rows = 1 } }, 409);
    }
}

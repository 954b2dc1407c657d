
namespace Runs.Host.Tests;

/// <summary>
/// Stored client JSON is re-emitted wrapped in more levels (the events list, webhook payloads). New JSON is
/// capped at 32 levels at the door; runs stored before the cap may hold JSON as deep as a body could be,
/// and reading or ending them must never fail.
/// </summary>
[Collection(WebhooksCollection.Name)]
public sealed class DeepJsonTests(WebhooksHost fixture) : HostSpecification<WebhooksHost>(fixture, "integrator", [Scopes.RunsRead, Scopes.RunsWrite, Scopes.WebhooksManage])
{
    private Receiver _receiver = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _receiver = await Receiver.StartAsync();
    }

    public override async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await base.DisposeAsync();
    }

    private static string Nested(int depth) => new string('[', depth) + new string(']', depth);

    /// <summary>The answers nest deeper than the 64 levels a JSON reader allows by default.</summary>
    private static JsonNode Deep(string json) => JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 128 })!;

    private static readonly JsonSerializerOptions Writing = new() { MaxDepth = 128 };

    /// <summary>The reviewer's run: input 63 levels deep and a summary value 62 deep, as bodies of 64 levels allowed.</summary>
    private async Task<string> StoredBeforeTheCapAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var id = RunId.New(now);
        var summary = new Dictionary<string, JsonElement> { ["deep"] = JsonDocument.Parse(Nested(62)).RootElement };
        await using var session = Fixture.Store.LightweightSession();
        session.Events.StartStream<Run>(id,
            new Triggered(id, "legacy", "api", null, JsonDocument.Parse(Nested(63)).RootElement, null, null, null, [],
                new Dictionary<string, string>(), null, [], "tester", now),
            new Started(id, null, now),
            new TelemetrySampled(id, summary, [], now));
        await session.SaveChangesAsync();
        return id;
    }

    [Fact]
    public async Task The_events_of_a_run_holding_JSON_as_deep_as_bodies_allowed_can_be_read()
    {
        var id = await StoredBeforeTheCapAsync();

        var result = await Api.Scenario(s => { s.Get.Url($"/v1/jobs/legacy/runs/{id}/events"); s.Bearer(Token); });

        var list = Deep(await result.ReadAsTextAsync())["events"]!.AsArray();
        Assert.Equal(["Triggered", "Started", "TelemetrySampled"], list.Select(e => (string)e!["type"]!));
        Assert.Equal(Nested(63), list[0]!["data"]!["input"]!.ToJsonString(Writing));
        Assert.Equal(Nested(62), list[2]!["data"]!["summary"]!["deep"]!.ToJsonString(Writing));
    }

    [Fact]
    public async Task A_run_holding_such_JSON_can_still_be_ended_and_its_webhook_carries_it()
    {
        var id = await StoredBeforeTheCapAsync();
        await Api.Scenario(s =>
        {
            s.Post.Json(new { url = _receiver.Url, events = new[] { "run.canceled" }, jobs = new[] { "legacy" } }).ToUrl("/v1/webhooks");
            s.Bearer(Token);
            s.StatusCodeShouldBe(201);
        });

        await Api.Scenario(s => { s.Post.Url($"/v1/jobs/legacy/runs/{id}/cancel"); s.Bearer(Token); s.StatusCodeShouldBe(200); });

        var status = await (await Api.Scenario(s => { s.Get.Url($"/v1/jobs/legacy/runs/{id}/status"); s.Bearer(Token); })).ReadAsTextAsync();
        Assert.Equal("canceled", status.Trim());
        var hook = Assert.Single(await _receiver.WaitForAsync(1));
        var body = Deep(hook.Body);
        Assert.Equal("run.canceled", (string)body["type"]!);
        Assert.Equal(Nested(62), body["data"]!["telemetry_summary"]!["deep"]!.ToJsonString(Writing));
    }
}

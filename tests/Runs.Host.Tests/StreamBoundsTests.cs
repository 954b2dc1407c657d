
namespace Runs.Host.Tests;

/// <summary>Live streams are capped per token and per host, end after their lifetime, and end when their token does.</summary>
[Collection(BoundsCollection.Name)]
public sealed class StreamBoundsTests(BoundsHost fixture) : HostSpecification<BoundsHost>(fixture, "runner", [Scopes.RunsWrite])
{
    private readonly List<EventStream> _open = [];

    public override async Task DisposeAsync()
    {
        foreach (var stream in _open)
        {
            await stream.DisposeAsync();
        }
    }

    private async Task<EventStream> Open(JsonNode run, string token, string? lastEventId = null)
    {
        var stream = await EventStream.OpenAsync(Api.Server.CreateClient(), $"{run["uri"]}/log/stream", token, lastEventId);
        _open.Add(stream);
        return stream;
    }

    private Task Append(JsonNode run, params string[] messages) =>
        Api.Scenario(s =>
        {
            s.Post.Json(new { lines = messages.Select(m => new { level = "info", message = m }) }).ToUrl($"{run["uri"]}/log");
            s.Bearer(Token);
        });

    /// <summary>The next event that is not a comment.</summary>
    private static async Task<ServerSentEvent> NextEvent(EventStream stream)
    {
        while (true)
        {
            var next = await stream.NextAsync() ?? throw new InvalidOperationException("The stream closed early.");
            if (next.Comment is null)
            {
                return next;
            }
        }
    }

    private async Task<JsonNode> RunningRun()
    {
        var run = await Api.TriggerAsync(Token);
        await Api.CommandAsync(Token, run, "start");
        return run;
    }

    private static async Task<JsonNode> AssertTooManyStreams(EventStream refused)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.Response.StatusCode);
        Assert.Equal("application/problem+json", refused.Response.Content.Headers.ContentType!.MediaType);
        Assert.True(int.Parse(refused.Response.Headers.GetValues("Retry-After").Single()) >= 1);
        var problem = JsonNode.Parse(await refused.Response.Content.ReadAsStringAsync())!;
        Assert.Equal(429, (int)problem["status"]!);
        return problem;
    }

    [Fact]
    public async Task A_token_past_its_stream_cap_gets_429_with_retry_after_and_other_tokens_still_stream()
    {
        var run = await RunningRun();
        var reader = await Fixture.TokenAsync("reader", [Scopes.RunsRead]);
        for (var i = 0; i < BoundsHost.MaxStreamsPerToken; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await Open(run, reader)).Response.StatusCode);
        }

        var problem = await AssertTooManyStreams(await Open(run, reader));
        Assert.Contains("This token", (string)problem["detail"]!);

        var other = await Fixture.TokenAsync("other", [Scopes.RunsRead]);
        Assert.Equal(HttpStatusCode.OK, (await Open(run, other)).Response.StatusCode);
    }

    [Fact]
    public async Task Past_the_hosts_stream_cap_any_token_gets_429_until_a_stream_closes()
    {
        var run = await RunningRun();
        for (var i = 0; i < BoundsHost.MaxStreams; i++)
        {
            var token = await Fixture.TokenAsync($"reader-{i}", [Scopes.RunsRead]);
            Assert.Equal(HttpStatusCode.OK, (await Open(run, token)).Response.StatusCode);
        }
        var late = await Fixture.TokenAsync("late", [Scopes.RunsRead]);

        var problem = await AssertTooManyStreams(await Open(run, late));
        Assert.Contains("This server", (string)problem["detail"]!);

        // Closing one stream frees its place once the server has seen the client go.
        await _open[0].DisposeAsync();
        var again = await Open(run, late);
        for (var attempt = 0; attempt < 200 && again.Response.StatusCode == HttpStatusCode.TooManyRequests; attempt++)
        {
            await Task.Delay(50);
            again = await Open(run, late);
        }
        Assert.Equal(HttpStatusCode.OK, again.Response.StatusCode);
    }

    [Fact]
    public async Task Revoking_the_token_ends_its_open_stream_with_an_error_event()
    {
        var admin = await Fixture.TokenAsync("admin", [Scopes.Admin]);
        var (leaver, secret) = await TestTokens.IssueAsync(Fixture.Store, "leaver", [Scopes.RunsRead]);
        var run = await RunningRun();
        var stream = await Open(run, secret);
        await Append(run, "before");
        Assert.Equal("log", (await NextEvent(stream)).Event);

        await Api.Scenario(s =>
        {
            s.Delete.Url($"/v1/tokens/{leaver.Id}");
            s.Bearer(admin);
            s.StatusCodeShouldBe(204);
        });
        Fixture.Clock.Advance(BoundsHost.TokenCheckInterval);

        var error = await NextEvent(stream);
        Assert.Equal("error", error.Event);
        var data = JsonNode.Parse(error.Data!)!;
        Assert.Equal(401, (int)data["status"]!);
        Assert.Contains("revoked", (string)data["detail"]!);
        Assert.Null(await stream.NextAsync());
    }

    [Fact]
    public async Task An_expired_token_ends_its_open_stream_with_an_error_event()
    {
        var (_, secret) = await TestTokens.IssueAsync(Fixture.Store, "short-lived", [Scopes.RunsRead],
            expiresOn: Fixture.Clock.GetUtcNow() + BoundsHost.TokenCheckInterval);
        var run = await RunningRun();
        var stream = await Open(run, secret);

        Fixture.Clock.Advance(BoundsHost.TokenCheckInterval);

        var error = await NextEvent(stream);
        Assert.Equal("error", error.Event);
        Assert.Contains("expired", (string)JsonNode.Parse(error.Data!)!["detail"]!);
        Assert.Null(await stream.NextAsync());
    }

    [Fact]
    public async Task At_its_lifetime_a_stream_says_reconnect_and_resuming_from_its_id_loses_and_repeats_nothing()
    {
        var reader = await Fixture.TokenAsync("reader", [Scopes.RunsRead]);
        var run = await RunningRun();
        await Append(run, "1", "2", "3");
        var first = await Open(run, reader);
        var seen = new List<long>();
        while (seen.Count < 3)
        {
            seen.Add(long.Parse((await NextEvent(first)).Id!));
        }

        // Lines arrive while the lifetime runs out: some may go out before the reconnect, the rest after.
        await Append(run, "4", "5");
        Fixture.Clock.Advance(BoundsHost.MaxLifetime);
        ServerSentEvent last;
        while ((last = await NextEvent(first)).Event == "log")
        {
            seen.Add(long.Parse(last.Id!));
        }
        Assert.Equal("reconnect", last.Event);
        Assert.Equal(seen[^1].ToString(), last.Id);
        Assert.Equal(seen[^1], (long)JsonNode.Parse(last.Data!)!["after_id"]!);
        Assert.Null(await first.NextAsync());

        var resumed = await Open(run, reader, last.Id);
        await Append(run, "6");
        await Api.CommandAsync(Token, run, "succeed");
        ServerSentEvent next;
        while ((next = await NextEvent(resumed)).Event == "log")
        {
            seen.Add(long.Parse(next.Id!));
        }

        Assert.Equal("state", next.Event);
        Assert.Equal([1, 2, 3, 4, 5, 6], seen);
    }

    [Fact]
    public async Task The_document_states_this_servers_stream_caps_and_lifetime_and_the_events_a_stream_can_end_with()
    {
        var document = JsonNode.Parse(await (await Api.Scenario(s => s.Get.Url("/openapi/v1.json"))).ReadAsTextAsync())!;

        var description = (string)document["info"]!["description"]!;
        Assert.Contains($"{BoundsHost.MaxStreamsPerToken} open at once per token and {BoundsHost.MaxStreams} on this server", description);
        Assert.Contains($"ends after {BoundsHost.MaxLifetime} with `event: reconnect`", description);
        Assert.Contains("at most about 4 KiB of JSON", description);
        var stream = (string)document["paths"]!["/v1/jobs/{job}/runs/{run}/log/stream"]!["get"]!["description"]!;
        Assert.Contains("`event: reconnect`", stream);
        Assert.Contains("`event: error`", stream);
    }
}

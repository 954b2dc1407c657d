
namespace Runs.Host.Tests;

[Collection(LogsCollection.Name)]
public sealed class LiveLogTests(LogsHost fixture) : HostSpecification<LogsHost>(fixture, "runner", [Scopes.RunsRead, Scopes.RunsWrite])
{
    private Task Append(IAlbaHost host, JsonNode run, params string[] messages) =>
        host.Scenario(s =>
        {
            s.Post.Json(new { lines = messages.Select(m => new { level = "info", message = m }) }).ToUrl($"{run["uri"]}/log");
            s.Bearer(Token);
        });

    private static async Task<List<ServerSentEvent>> ReadLogEvents(EventStream stream, int count)
    {
        var events = new List<ServerSentEvent>();
        while (events.Count < count)
        {
            var next = await stream.NextAsync() ?? throw new InvalidOperationException("The stream closed early.");
            if (next.Event == "log")
            {
                events.Add(next);
            }
        }
        return events;
    }

    [Fact]
    public async Task The_stream_sends_the_backlog_then_live_lines_then_the_final_state_and_closes()
    {
        var run = await Api.TriggerAsync(Token);
        await Api.CommandAsync(Token, run, "start");
        await Append(Api, run, "one", "two");

        await using var stream = await EventStream.OpenAsync(Api.Server.CreateClient(), $"{run["uri"]}/log/stream", Token);
        Assert.Equal("text/event-stream", stream.Response.Content.Headers.ContentType!.MediaType);

        var backlog = await ReadLogEvents(stream, 2);
        Assert.Equal(["1", "2"], backlog.Select(e => e.Id));
        Assert.Equal("one", (string)JsonNode.Parse(backlog[0].Data!)!["message"]!);

        await Append(Api, run, "three");
        var live = await ReadLogEvents(stream, 1);
        Assert.Equal("3", live[0].Id);

        await Api.CommandAsync(Token, run, "succeed", new { exit_code = 0 });
        ServerSentEvent? state;
        do
        {
            state = await stream.NextAsync();
        }
        while (state is { Comment: not null });
        Assert.Equal("state", state!.Event);
        var ended = JsonNode.Parse(state.Data!)!;
        Assert.Equal("succeeded", (string)ended["status"]!);
        Assert.Equal(0, (int)ended["exit_code"]!);
        Assert.NotNull(ended["completed_on"]);
        Assert.Null(await stream.NextAsync());
    }

    [Fact]
    public async Task An_idle_stream_sends_pings()
    {
        var run = await Api.TriggerAsync(Token);
        await using var stream = await EventStream.OpenAsync(Api.Server.CreateClient(), $"{run["uri"]}/log/stream", Token);

        var next = await stream.NextAsync(TimeSpan.FromSeconds(5));

        Assert.Equal("ping", next!.Comment);
    }

    [Fact]
    public async Task A_finished_runs_stream_sends_its_lines_and_state_at_once()
    {
        var run = await Api.TriggerAsync(Token);
        await Append(Api, run, "only");
        await Api.CommandAsync(Token, run, "reject", new { reason = "no" });

        await using var stream = await EventStream.OpenAsync(Api.Server.CreateClient(), $"{run["uri"]}/log/stream", Token);

        Assert.Equal("log", (await stream.NextAsync())!.Event);
        Assert.Equal("state", (await stream.NextAsync())!.Event);
        Assert.Null(await stream.NextAsync());
    }

    [Fact]
    public async Task Resuming_after_the_last_event_id_loses_and_repeats_nothing_under_concurrent_appends()
    {
        var run = await Api.TriggerAsync(Token);
        await Api.CommandAsync(Token, run, "start");

        var writers = Task.Run(async () =>
        {
            await Task.WhenAll(Enumerable.Range(0, 4).Select(async w =>
            {
                for (var i = 0; i < 2; i++)
                {
                    await Append(Api, run, $"w{w}-{i}");
                }
            }));
        });

        var seen = new List<long>();
        await using (var first = await EventStream.OpenAsync(Api.Server.CreateClient(), $"{run["uri"]}/log/stream", Token))
        {
            seen.AddRange((await ReadLogEvents(first, 3)).Select(e => long.Parse(e.Id!)));
        }
        await using (var resumed = await EventStream.OpenAsync(Api.Server.CreateClient(), $"{run["uri"]}/log/stream", Token, seen[^1].ToString()))
        {
            await writers;
            seen.AddRange((await ReadLogEvents(resumed, 8 - 3)).Select(e => long.Parse(e.Id!)));
        }

        Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), seen);
    }

    [Fact]
    public async Task A_filtered_stream_still_ends_when_the_run_does()
    {
        var run = await Api.TriggerAsync(Token);
        await Api.CommandAsync(Token, run, "start");
        await using var stream = await EventStream.OpenAsync(Api.Server.CreateClient(), $"{run["uri"]}/log/stream?level=error", Token);

        await Api.Scenario(s =>
        {
            s.Post.Json(new { lines = new object[] { new { level = "error", message = "bad" }, new { level = "info", message = "fine" } } }).ToUrl($"{run["uri"]}/log");
            s.Bearer(Token);
        });
        await Api.CommandAsync(Token, run, "succeed");

        var events = new List<ServerSentEvent>();
        while (await stream.NextAsync() is { } next)
        {
            if (next.Comment is null)
            {
                events.Add(next);
            }
        }
        Assert.Equal(["log", "state"], events.Select(e => e.Event));
        Assert.Equal("bad", (string)JsonNode.Parse(events[0].Data!)!["message"]!);
    }

    [Fact]
    public async Task Last_event_id_wins_over_the_after_id_of_the_original_url()
    {
        var run = await Api.TriggerAsync(Token);
        await Append(Api, run, "a", "b", "c");
        await using var stream = await EventStream.OpenAsync(Api.Server.CreateClient(), $"{run["uri"]}/log/stream?after_id=0", Token, "2");
        Assert.Equal("3", (await ReadLogEvents(stream, 1))[0].Id);
    }

    [Fact]
    public async Task The_after_id_query_resumes_like_last_event_id()
    {
        var run = await Api.TriggerAsync(Token);
        await Append(Api, run, "a", "b", "c");
        await using var stream = await EventStream.OpenAsync(Api.Server.CreateClient(), $"{run["uri"]}/log/stream?after_id=2", Token);
        Assert.Equal("3", (await ReadLogEvents(stream, 1))[0].Id);
    }

    /// <summary>A second host on the same database, as a deployment of several runs them.</summary>
    private Task<IAlbaHost> AnotherHostAsync() => HostCommand.BetweenCommandsAsync(() =>
        AlbaHost.For<Program>(builder =>
        {
            builder.UseEnvironment("Development");
            builder.UseSetting("ConnectionStrings:Runs", Fixture.ConnectionString);
            builder.UseSetting("Runs:Secrets:CurrentKeyId", "other");
            builder.UseSetting("Runs:Secrets:Keys:other", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            LogsHost.Settings(builder);
            builder.ConfigureServices(services => services.RunWolverineInSoloMode());
        }));

    [Fact]
    public async Task A_reader_on_one_host_sees_lines_written_through_another()
    {
        await using var writerHost = await AnotherHostAsync();
        var run = await writerHost.TriggerAsync(Token);
        await writerHost.CommandAsync(Token, run, "start");

        await using var stream = await EventStream.OpenAsync(Api.Server.CreateClient(), $"{run["uri"]}/log/stream", Token);
        await Append(writerHost, run, "from the other host");

        var line = (await ReadLogEvents(stream, 1))[0];
        Assert.Equal("from the other host", (string)JsonNode.Parse(line.Data!)!["message"]!);
    }

    [Fact]
    public async Task A_host_shutting_down_ends_its_streams_with_reconnect_and_another_host_resumes_them()
    {
        var stopping = await AnotherHostAsync();
        var run = await Api.TriggerAsync(Token);
        await Api.CommandAsync(Token, run, "start");
        await Append(Api, run, "before");
        await using var stream = await EventStream.OpenAsync(stopping.Server.CreateClient(), $"{run["uri"]}/log/stream", Token);
        Assert.Equal("1", (await ReadLogEvents(stream, 1))[0].Id);

        var stopped = stopping.StopAsync();
        ServerSentEvent? ended;
        do
        {
            ended = await stream.NextAsync();
        }
        while (ended is { Comment: not null });
        await stopped;
        await stopping.DisposeAsync();

        Assert.Equal("reconnect", ended?.Event);
        Assert.Equal("1", ended!.Id);
        Assert.Contains("shutting down", (string)JsonNode.Parse(ended.Data!)!["detail"]!);
        await Append(Api, run, "after");
        await using var resumed = await EventStream.OpenAsync(Api.Server.CreateClient(), $"{run["uri"]}/log/stream", Token, lastEventId: ended.Id);
        var next = (await ReadLogEvents(resumed, 1))[0];
        Assert.Equal("2", next.Id);
        Assert.Equal("after", (string)JsonNode.Parse(next.Data!)!["message"]!);
    }

    [Fact]
    public async Task A_stream_of_another_jobs_run_is_404()
    {
        var run = await Api.TriggerAsync(Token, job: "alpha");
        var response = await Api.Server.CreateClient().SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/beta/runs/{run["id"]}/log/stream")
        {
            Headers = { { "Authorization", $"Bearer {Token}" } },
        });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}

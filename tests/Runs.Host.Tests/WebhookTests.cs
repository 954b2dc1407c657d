using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Alba;
using Microsoft.AspNetCore.Hosting;
using Npgsql;
using Runs.Host.Access;
using Runs.Host.Tests.Harness;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Wolverine;

namespace Runs.Host.Tests;

[Collection(WebhooksCollection.Name)]
public sealed class WebhookTests(WebhooksHost fixture) : IAsyncLifetime
{
    private readonly IAlbaHost _host = fixture.Host;
    private string _token = "";
    private Receiver _receiver = null!;

    public async Task InitializeAsync()
    {
        await fixture.ResetAsync();
        _token = await fixture.TokenAsync("integrator", [Scopes.RunsRead, Scopes.RunsWrite, Scopes.WebhooksManage]);
        _receiver = await Receiver.StartAsync();
    }

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    private async Task<JsonNode> Subscribe(object? body = null, IAlbaHost? host = null, string? token = null) =>
        await (await (host ?? _host).Scenario(s =>
        {
            s.Post.Json(body ?? new { url = _receiver.Url, events = new[] { "run.succeeded", "run.failed", "run.canceled", "run.rejected" } }).ToUrl("/v1/webhooks");
            s.Bearer(token ?? _token);
            s.StatusCodeShouldBe(201);
        })).Json();

    /// <summary>Standard Webhooks verification, written from the specification, not from the sending code.</summary>
    private static bool Verifies(ReceivedHook hook, string secret)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        using var hmac = new HMACSHA256(key);
        var expected = "v1," + Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes($"{hook.Id}.{hook.Timestamp}.{hook.Body}")));
        return hook.Signature.Split(' ').Contains(expected);
    }

    private async Task<JsonNode> FailedRun(IAlbaHost? host = null, string? token = null)
    {
        host ??= _host;
        token ??= _token;
        var run = await host.TriggerAsync(token, job: "etl");
        await host.CommandAsync(token, run, "start");
        await host.Scenario(s => { s.Post.Json(new { lines = new[] { new { level = "error", message = "disk full" } } }).ToUrl($"{run["uri"]}/log"); s.Bearer(token); });
        await host.CommandAsync(token, run, "fail", new { error_summary = "load failed", exit_code = 2 });
        return run;
    }

    private static async Task<string> TokenIn(IAlbaHost host)
    {
        var (token, secret) = ApiToken.Issue("integrator", Scopes.All, ["*"], DateTimeOffset.UtcNow);
        await using var session = host.Services.GetRequiredService<Marten.IDocumentStore>().LightweightSession();
        session.Store(token);
        await session.SaveChangesAsync();
        return secret;
    }

    [Fact]
    public async Task A_failed_run_is_delivered_signed_per_the_specification()
    {
        var endpoint = await Subscribe();
        var secret = (string)endpoint["secret"]!;
        Assert.StartsWith("whsec_", secret);
        Assert.True(Convert.FromBase64String(secret["whsec_".Length..]).Length >= 24);

        var run = await FailedRun();

        var hook = Assert.Single(await _receiver.WaitForAsync(1));
        Assert.True(Verifies(hook, secret));
        Assert.True(Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - long.Parse(hook.Timestamp)) < 60);
        var body = JsonNode.Parse(hook.Body)!;
        Assert.Equal("run.failed", (string)body["type"]!);
        Assert.Equal((string)run["id"]!, (string)body["data"]!["id"]!);
        Assert.Equal("load failed", (string)body["data"]!["error_summary"]!);
        Assert.Equal(["disk full"], body["data"]!["last_error_lines"]!.AsArray().Select(l => (string)l!));
        Assert.NotNull(body["data"]!["telemetry_summary"]);
        Assert.Equal("failed", (string)body["data"]!["status"]!);

        var listed = await (await _host.Scenario(s => { s.Get.Url($"/v1/webhooks/{endpoint["id"]}"); s.Bearer(_token); })).Json();
        Assert.Null(listed["secret"]);
    }

    [Fact]
    public async Task Only_subscribed_events_and_jobs_are_delivered()
    {
        await Subscribe(new { url = _receiver.Url, events = new[] { "run.canceled" }, jobs = new[] { "etl" } });

        await FailedRun();
        var other = await _host.TriggerAsync(_token, job: "reports");
        await _host.CommandAsync(_token, other, "cancel");
        var canceled = await _host.TriggerAsync(_token, job: "etl");
        await _host.CommandAsync(_token, canceled, "cancel");

        var hook = Assert.Single(await _receiver.WaitForAsync(1));
        await Task.Delay(500);
        Assert.Single(_receiver.Received);
        Assert.Equal((string)canceled["id"]!, (string)JsonNode.Parse(hook.Body)!["data"]!["id"]!);
    }

    [Fact]
    public async Task Failures_are_retried_with_the_same_webhook_id_until_success()
    {
        var endpoint = await Subscribe();
        _receiver.AnswerNext(500, 503);

        await FailedRun();

        var hooks = await _receiver.WaitForAsync(3);
        Assert.Equal(3, hooks.Count);
        Assert.Single(hooks.Select(h => h.Id).Distinct());
        Assert.All(hooks, h => Assert.True(Verifies(h, (string)endpoint["secret"]!)));

        var deliveries = await WaitForDelivery(endpoint, d => (string)d["status"]! == "succeeded");
        var attempts = deliveries["attempts"]!.AsArray();
        Assert.Equal([500, 503, 200], attempts.Select(a => (int)a!["response_status"]!));
        Assert.Equal(hooks[0].Id, (string)deliveries["id"]!);
    }

    [Fact]
    public async Task After_the_last_retry_the_message_is_dead_lettered_and_can_be_redelivered()
    {
        var endpoint = await Subscribe();
        _receiver.DefaultAnswer = 500;

        await FailedRun();

        var dead = await WaitForDelivery(endpoint, d => (string)d["status"]! == "dead_lettered");
        Assert.Equal(3, dead["attempts"]!.AsArray().Count);
        Assert.Null(dead["next_attempt_on"]);
        await using (var connection = new NpgsqlConnection(fixture.ConnectionString))
        {
            await connection.OpenAsync();
            await using var count = new NpgsqlCommand("select count(*) from runs.wolverine_dead_letters", connection);
            Assert.True((long)(await count.ExecuteScalarAsync())! >= 1);
        }

        _receiver.DefaultAnswer = 200;
        await _host.Scenario(s =>
        {
            s.Post.Url($"/v1/webhooks/{endpoint["id"]}/deliveries/{dead["id"]}/redeliver");
            s.Bearer(_token);
            s.StatusCodeShouldBe(202);
        });
        var redelivered = await WaitForDelivery(endpoint, d => (string)d["status"]! == "succeeded");
        Assert.Equal(4, redelivered["attempts"]!.AsArray().Count);
        Assert.Single(_receiver.Received.Select(h => h.Id).Distinct());
    }

    [Fact]
    public async Task Recover_requeues_everything_that_failed_since_a_time()
    {
        var endpoint = await Subscribe();
        _receiver.DefaultAnswer = 500;
        var since = DateTimeOffset.UtcNow.AddMinutes(-1);
        await FailedRun();
        await FailedRun();
        await WaitForDeliveries(endpoint, 2, d => (string)d["status"]! == "dead_lettered");

        _receiver.DefaultAnswer = 200;
        var recovered = await (await _host.Scenario(s =>
        {
            s.Post.Json(new { since = since.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'") }).ToUrl($"/v1/webhooks/{endpoint["id"]}/recover");
            s.Bearer(_token);
            s.StatusCodeShouldBe(202);
        })).Json();

        Assert.Equal(2, (int)recovered["requeued"]!);
        await WaitForDeliveries(endpoint, 2, d => (string)d["status"]! == "succeeded");
    }

    [Fact]
    public async Task Redirects_are_not_followed_and_at_most_4_KiB_of_an_answer_is_kept()
    {
        var endpoint = await Subscribe();
        _receiver.AnswerNext(new Answer(307, Location: _receiver.Url.Replace("/hook", "/elsewhere")));
        _receiver.AnswerNext(new Answer(500, Body: new string('x', 20_000)));

        await FailedRun();

        var delivery = await WaitForDelivery(endpoint, d => (string)d["status"]! == "succeeded");
        var attempts = delivery["attempts"]!.AsArray();
        Assert.Equal([307, 500, 200], attempts.Select(a => (int)a!["response_status"]!));
        Assert.DoesNotContain(_receiver.Received, h => h.Path == "/elsewhere");
        var error = (string)attempts[1]!["error"]!;
        Assert.InRange(error.Count(c => c == 'x'), 1, 4096);
    }

    [Fact]
    public async Task An_endpoint_that_answers_410_is_disabled()
    {
        var endpoint = await Subscribe();
        _receiver.AnswerNext(410);

        await FailedRun();
        await WaitForDelivery(endpoint, d => (string)d["status"]! == "failed");

        var read = await (await _host.Scenario(s => { s.Get.Url($"/v1/webhooks/{endpoint["id"]}"); s.Bearer(_token); })).Json();
        Assert.False((bool)read["enabled"]!);
        await FailedRun();
        await Task.Delay(800);
        Assert.Single(_receiver.Received);
    }

    [Fact]
    public async Task After_rotation_both_secrets_sign_for_a_day()
    {
        var endpoint = await Subscribe();
        var rotated = await (await _host.Scenario(s =>
        {
            s.Post.Url($"/v1/webhooks/{endpoint["id"]}/rotate-secret");
            s.Bearer(_token);
        })).Json();
        var newSecret = (string)rotated["secret"]!;
        Assert.NotEqual((string)endpoint["secret"]!, newSecret);
        Assert.True(DateTimeOffset.Parse((string)rotated["previous_secret_expires_on"]!) > DateTimeOffset.UtcNow.AddHours(23));

        await FailedRun();

        var hook = Assert.Single(await _receiver.WaitForAsync(1));
        Assert.Equal(2, hook.Signature.Split(' ').Length);
        Assert.True(Verifies(hook, newSecret));
        Assert.True(Verifies(hook, (string)endpoint["secret"]!));
    }

    [Fact]
    public async Task A_terminal_event_that_was_rolled_back_sends_nothing()
    {
        await Subscribe();
        var run = await _host.TriggerAsync(_token, job: "etl");
        await _host.CommandAsync(_token, run, "start");

        var client = _host.Server.CreateClient();
        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => client.SendAsync(new HttpRequestMessage(HttpMethod.Post, $"{run["uri"]}/succeed")
        {
            Headers = { { "Authorization", $"Bearer {_token}" }, { "If-Match", "\"2\"" } },
        })));

        Assert.Equal(1, answers.Count(a => a.IsSuccessStatusCode));
        await _receiver.WaitForAsync(1);
        await Task.Delay(800);
        Assert.Single(_receiver.Received);
    }

    [Fact]
    public async Task A_delivery_enqueued_before_the_host_stops_is_sent_after_the_next_start()
    {
        // A database of its own: another host on the same one (with another key) could take the retry over.
        var connection = await TestDatabase.EnsureAsync("durability");
        void Settings(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Development");
            builder.UseSetting("ConnectionStrings:Runs", connection);
            builder.UseSetting("Runs:Secrets:CurrentKeyId", "durable");
            builder.UseSetting("Runs:Secrets:Keys:durable", "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=");
            builder.UseSetting("Runs:Webhooks:RetrySchedule", "00:00:03");
        }

        string deliveryId;
        await using (var first = await AlbaHost.For<Program>(builder =>
        {
            Settings(builder);
            builder.ConfigureServices(services => services.RunWolverineInSoloMode());
        }))
        {
            await first.ResetAllMartenDataAsync();
            var token = await TokenIn(first);
            var endpoint = await Subscribe(host: first, token: token);
            _receiver.AnswerNext(500);
            await FailedRun(first, token);
            var hooks = await _receiver.WaitForAsync(1);
            deliveryId = hooks[0].Id;
            Assert.NotNull(endpoint);
        }

        await using var second = await AlbaHost.For<Program>(builder =>
        {
            Settings(builder);
            builder.ConfigureServices(services => services.RunWolverineInSoloMode());
        });
        var received = await _receiver.WaitForAsync(2, TimeSpan.FromSeconds(30));
        Assert.Equal(2, received.Count);
        Assert.Equal(deliveryId, received[1].Id);
    }

    [Theory]
    [InlineData("{\"url\":\"ftp://example.com/x\",\"events\":[\"run.failed\"]}", "url")]
    [InlineData("{\"url\":\"not a url\",\"events\":[\"run.failed\"]}", "url")]
    [InlineData("{\"url\":\"https://user:pw@example.com/x\",\"events\":[\"run.failed\"]}", "url")]
    [InlineData("{\"url\":\"https://example.com/x\",\"events\":[\"run.exploded\"]}", "events")]
    [InlineData("{\"url\":\"https://example.com/x\",\"events\":[]}", "events")]
    [InlineData("{\"url\":\"https://example.com/x\",\"events\":[\"run.failed\"],\"jobs\":[\"Bad Job\"]}", "jobs")]
    public async Task Invalid_endpoints_are_400_naming_the_field(string body, string field)
    {
        var result = await _host.Scenario(s =>
        {
            s.Post.Text(body).ToUrl("/v1/webhooks");
            s.WithRequestHeader("Content-Type", "application/json");
            s.Bearer(_token);
            s.StatusCodeShouldBe(400);
        });
        Assert.NotNull((await result.ProblemAsync(400))["errors"]![field]);
    }

    [Fact]
    public async Task A_token_cannot_subscribe_to_jobs_it_cannot_read_and_sees_only_its_own_endpoints()
    {
        var narrow = await fixture.TokenAsync("narrow", [Scopes.WebhooksManage], ["etl"]);
        var refused = await _host.Scenario(s =>
        {
            s.Post.Json(new { url = _receiver.Url, events = new[] { "run.failed" }, jobs = new[] { "payroll" } }).ToUrl("/v1/webhooks");
            s.Bearer(narrow);
            s.StatusCodeShouldBe(400);
        });
        Assert.NotNull((await refused.ProblemAsync(400))["errors"]!["jobs"]);

        var mine = await (await _host.Scenario(s =>
        {
            s.Post.Json(new { url = _receiver.Url, events = new[] { "run.failed" } }).ToUrl("/v1/webhooks");
            s.Bearer(narrow);
            s.StatusCodeShouldBe(201);
        })).Json();
        Assert.Equal(["etl"], mine["jobs"]!.AsArray().Select(j => (string)j!));

        var everything = await Subscribe();
        var listed = await (await _host.Scenario(s => { s.Get.Url("/v1/webhooks"); s.Bearer(narrow); })).Json();
        Assert.Equal([(string)mine["id"]!], listed["webhooks"]!.AsArray().Select(w => (string)w!["id"]!));
        await _host.Scenario(s => { s.Get.Url($"/v1/webhooks/{everything["id"]}"); s.Bearer(narrow); s.StatusCodeShouldBe(404); });
    }

    [Fact]
    public async Task Endpoints_can_be_updated_disabled_and_deleted()
    {
        var endpoint = await Subscribe();
        var updated = await (await _host.Scenario(s =>
        {
            s.Patch.Json(new { enabled = false, description = "paused for maintenance" }).ToUrl($"/v1/webhooks/{endpoint["id"]}");
            s.Bearer(_token);
        })).Json();
        Assert.False((bool)updated["enabled"]!);
        await FailedRun();
        await Task.Delay(800);
        Assert.Empty(_receiver.Received);

        await _host.Scenario(s => { s.Delete.Url($"/v1/webhooks/{endpoint["id"]}"); s.Bearer(_token); s.StatusCodeShouldBe(204); });
        await _host.Scenario(s => { s.Get.Url($"/v1/webhooks/{endpoint["id"]}"); s.Bearer(_token); s.StatusCodeShouldBe(404); });
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.20.0.1", true)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("93.184.216.34", false)]
    [InlineData("2606:2800:220:1:248:1893:25c8:1946", false)]
    public void Internal_addresses_are_recognised(string address, bool isInternal) =>
        Assert.Equal(isInternal, Webhooks.WebhookUrls.IsInternal(System.Net.IPAddress.Parse(address)));

    [Fact]
    public async Task Without_private_networks_allowed_a_loopback_url_is_refused()
    {
        Assert.NotNull(await Webhooks.WebhookUrls.PrivateNetworkProblem("http://127.0.0.1:9/x", allowPrivate: false, default));
        Assert.NotNull(await Webhooks.WebhookUrls.PrivateNetworkProblem("http://localhost:9/x", allowPrivate: false, default));
        Assert.Null(await Webhooks.WebhookUrls.PrivateNetworkProblem("http://127.0.0.1:9/x", allowPrivate: true, default));
    }

    private Task<JsonNode> WaitForDelivery(JsonNode endpoint, Func<JsonNode, bool> done) =>
        WaitForDeliveries(endpoint, 1, done).ContinueWith(t => t.Result[0]);

    private async Task<List<JsonNode>> WaitForDeliveries(JsonNode endpoint, int count, Func<JsonNode, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        List<JsonNode> deliveries;
        do
        {
            var page = await (await _host.Scenario(s => { s.Get.Url($"/v1/webhooks/{endpoint["id"]}/deliveries"); s.Bearer(_token); })).Json();
            deliveries = [.. page["deliveries"]!.AsArray().Select(d => d!)];
            if (deliveries.Count >= count && deliveries.All(done))
            {
                return deliveries;
            }
            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"Deliveries never reached the expected state: {string.Join(", ", deliveries.Select(d => d.ToJsonString()))}");
    }
}

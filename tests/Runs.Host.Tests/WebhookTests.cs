using System.Net.Http.Json;
using Runs.Host.Webhooks;
using Wolverine.Tracking;

namespace Runs.Host.Tests;

[Collection(WebhooksCollection.Name)]
public sealed class WebhookTests(WebhooksHost fixture) : HostSpecification<WebhooksHost>(fixture, "integrator", [Scopes.RunsRead, Scopes.RunsWrite, Scopes.WebhooksManage])
{
    private string _admin = "";
    private Receiver _receiver = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _admin = await Fixture.TokenAsync("admin");
        _receiver = await Receiver.StartAsync();
    }

    public override async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await base.DisposeAsync();
    }

    private async Task<JsonNode> Subscribe(object? body = null, IAlbaHost? host = null, string? token = null) =>
        await (await (host ?? Api).Scenario(s =>
        {
            s.Post.Json(body ?? new { url = _receiver.Url, events = new[] { "run.succeeded", "run.failed", "run.canceled", "run.rejected" } }).ToUrl("/v1/webhooks");
            s.Bearer(token ?? Token);
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
        host ??= Api;
        token ??= Token;
        var run = await host.TriggerAsync(token, job: "etl");
        await host.CommandAsync(token, run, "start");
        await host.Scenario(s => { s.Post.Json(new { lines = new[] { new { level = "error", message = "disk full" } } }).ToUrl($"{run["uri"]}/log"); s.Bearer(token); });
        await host.CommandAsync(token, run, "fail", new { error_summary = "load failed", exit_code = 2 });
        return run;
    }

    /// <summary>A run of <paramref name="job"/> that has started, ready to end.</summary>
    private async Task<JsonNode> RunningRun(string job = "etl")
    {
        var run = await Api.TriggerAsync(Token, job: job);
        await Api.CommandAsync(Token, run, "start");
        return run;
    }

    /// <summary>
    /// Runs <paramref name="action"/> and waits until every message it set off (run ends, fan-outs,
    /// deliveries) has been handled: what a receiver will ever get from it, it has got by then.
    /// </summary>
    private Task<ITrackedSession> Settled(Func<Task> action) =>
        Api.TrackActivity(TimeSpan.FromSeconds(60)).ExecuteAndWaitAsync((Func<IMessageContext, Task>)(_ => action()));

    /// <summary>A token with an id the test knows (to revoke it, or let it expire), and its secret.</summary>
    private async Task<(ApiToken Token, string Secret)> IssueAsync(string name, string[] scopes, string[]? jobs = null)
    {
        var (token, secret) = ApiToken.Issue(name, scopes, jobs ?? ["*"], DateTimeOffset.UtcNow);
        await using var session = Fixture.Store.LightweightSession();
        session.Store(token);
        await session.SaveChangesAsync();
        return (token, secret);
    }

    private async Task<JsonNode> Read(string path, string token, int status = 200) =>
        await (await Api.Scenario(s => { s.Get.Url(path); s.Bearer(token); s.StatusCodeShouldBe(status); })).Json();

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

        var listed = await (await Api.Scenario(s => { s.Get.Url($"/v1/webhooks/{endpoint["id"]}"); s.Bearer(Token); })).Json();
        Assert.Null(listed["secret"]);
    }

    [Fact]
    public async Task Only_subscribed_events_and_jobs_are_delivered()
    {
        await Subscribe(new { url = _receiver.Url, events = new[] { "run.canceled" }, jobs = new[] { "etl" } });

        JsonNode canceled = null!;
        await Settled(async () =>
        {
            await FailedRun();
            var other = await Api.TriggerAsync(Token, job: "reports");
            await Api.CommandAsync(Token, other, "cancel");
            canceled = await Api.TriggerAsync(Token, job: "etl");
            await Api.CommandAsync(Token, canceled, "cancel");
        });

        var hook = Assert.Single(_receiver.Received);
        Assert.Equal((string)canceled["id"]!, (string)JsonNode.Parse(hook.Body)!["data"]!["id"]!);
    }

    [Theory]
    [InlineData("etl", true)]
    [InlineData("e*", true)]
    [InlineData("*l", true)]
    [InlineData("*", true)]
    [InlineData("e_l", false)]
    [InlineData("et", false)]
    [InlineData("reports", false)]
    public async Task An_endpoint_receives_the_jobs_its_names_and_globs_match_and_no_others(string pattern, bool delivered)
    {
        await Subscribe(new { url = _receiver.Url, events = new[] { "run.failed" }, jobs = new[] { pattern } });

        await Settled(() => FailedRun());

        Assert.Equal(delivered ? 1 : 0, _receiver.Received.Count);
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
        Assert.True(await DeadLetteredAsync((string)dead["id"]!), $"no dead letter of delivery {dead["id"]} in Wolverine's storage");

        _receiver.DefaultAnswer = 200;
        await Api.Scenario(s =>
        {
            s.Post.Url($"/v1/webhooks/{endpoint["id"]}/deliveries/{dead["id"]}/redeliver");
            s.Bearer(Token);
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
        var recovered = await (await Api.Scenario(s =>
        {
            s.Post.Json(new { since = since.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'") }).ToUrl($"/v1/webhooks/{endpoint["id"]}/recover");
            s.Bearer(Token);
            s.StatusCodeShouldBe(202);
        })).Json();

        Assert.Equal(2, (int)recovered["requeued"]!);
        await WaitForDeliveries(endpoint, 2, d => (string)d["status"]! == "succeeded");
    }

    [Fact]
    public async Task Recover_without_a_time_is_400_naming_since()
    {
        var endpoint = await Subscribe();
        var refused = await Api.Scenario(s =>
        {
            s.Post.Json(new { }).ToUrl($"/v1/webhooks/{endpoint["id"]}/recover");
            s.Bearer(Token);
            s.StatusCodeShouldBe(400);
        });
        Assert.NotNull((await refused.ProblemAsync(400))["errors"]!["since"]);
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
    public async Task An_answer_with_NUL_bytes_is_kept_with_them_shown_as_replacement_characters()
    {
        var endpoint = await Subscribe();
        // An error page in UTF-16 is full of NUL bytes, which PostgreSQL cannot store.
        _receiver.AnswerNext(new Answer(503, Body: "d\0o\0w\0n\0"));

        await FailedRun();

        var delivery = await WaitForDelivery(endpoint, d => (string)d["status"]! == "succeeded");
        var attempts = delivery["attempts"]!.AsArray();
        Assert.Equal([503, 200], attempts.Select(a => (int)a!["response_status"]!));
        Assert.Equal("HTTP 503: d\uFFFDo\uFFFDw\uFFFDn\uFFFD", (string)attempts[0]!["error"]!);
    }

    [Fact]
    public async Task An_endpoint_that_answers_410_is_disabled()
    {
        var endpoint = await Subscribe();
        _receiver.AnswerNext(410);

        await FailedRun();
        await WaitForDelivery(endpoint, d => (string)d["status"]! == "failed");

        var read = await (await Api.Scenario(s => { s.Get.Url($"/v1/webhooks/{endpoint["id"]}"); s.Bearer(Token); })).Json();
        Assert.False((bool)read["enabled"]!);
        Assert.Matches(@"^it answered 410 Gone on \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", (string)read["disabled_reason"]!);
        await Settled(() => FailedRun());
        Assert.Single(_receiver.Received);
    }

    [Fact]
    public async Task After_rotation_both_secrets_sign_for_a_day()
    {
        var endpoint = await Subscribe();
        var rotated = await (await Api.Scenario(s =>
        {
            s.Post.Url($"/v1/webhooks/{endpoint["id"]}/rotate-secret");
            s.Bearer(Token);
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
        var run = await Api.TriggerAsync(Token, job: "etl");
        await Api.CommandAsync(Token, run, "start");

        var client = Api.Server.CreateClient();
        HttpResponseMessage[] answers = [];
        await Settled(async () => answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => client.SendAsync(new HttpRequestMessage(HttpMethod.Post, $"{run["uri"]}/succeed")
        {
            Headers = { { "Authorization", $"Bearer {Token}" }, { "If-Match", "\"2\"" } },
        }))));

        Assert.Equal(1, answers.Count(a => a.IsSuccessStatusCode));
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
        await using (var first = await HostCommand.BetweenCommandsAsync(() => AlbaHost.For<Program>(builder =>
        {
            Settings(builder);
            builder.ConfigureServices(services => services.RunWolverineInSoloMode());
        })))
        {
            await TestData.EmptyAsync(connection);
            var token = await TokenIn(first);
            var endpoint = await Subscribe(host: first, token: token);
            _receiver.AnswerNext(500);
            await FailedRun(first, token);
            var hooks = await _receiver.WaitForAsync(1);
            deliveryId = hooks[0].Id;
            Assert.NotNull(endpoint);
        }

        await using var second = await HostCommand.BetweenCommandsAsync(() => AlbaHost.For<Program>(builder =>
        {
            Settings(builder);
            builder.ConfigureServices(services => services.RunWolverineInSoloMode());
        }));
        var received = await _receiver.WaitForAsync(2, TimeSpan.FromSeconds(30));
        Assert.Equal(2, received.Count);
        Assert.Equal(deliveryId, received[1].Id);
    }

    [Fact]
    public async Task A_token_cannot_subscribe_to_jobs_it_cannot_read_and_sees_only_its_own_endpoints()
    {
        var narrow = await Fixture.TokenAsync("narrow", [Scopes.RunsRead, Scopes.WebhooksManage], ["etl"]);
        var refused = await Api.Scenario(s =>
        {
            s.Post.Json(new { url = _receiver.Url, events = new[] { "run.failed" }, jobs = new[] { "payroll" } }).ToUrl("/v1/webhooks");
            s.Bearer(narrow);
            s.StatusCodeShouldBe(400);
        });
        Assert.NotNull((await refused.ProblemAsync(400))["errors"]!["jobs"]);

        var mine = await (await Api.Scenario(s =>
        {
            s.Post.Json(new { url = _receiver.Url, events = new[] { "run.failed" } }).ToUrl("/v1/webhooks");
            s.Bearer(narrow);
            s.StatusCodeShouldBe(201);
        })).Json();
        Assert.Equal(["etl"], mine["jobs"]!.AsArray().Select(j => (string)j!));

        var everything = await Subscribe();
        var listed = await (await Api.Scenario(s => { s.Get.Url("/v1/webhooks"); s.Bearer(narrow); })).Json();
        Assert.Equal([(string)mine["id"]!], listed["webhooks"]!.AsArray().Select(w => (string)w!["id"]!));
        await Api.Scenario(s => { s.Get.Url($"/v1/webhooks/{everything["id"]}"); s.Bearer(narrow); s.StatusCodeShouldBe(404); });
    }

    [Fact]
    public async Task A_change_with_an_invalid_field_is_400_naming_it_and_changes_nothing()
    {
        var endpoint = await Subscribe();
        var refused = await Api.Scenario(s =>
        {
            s.Patch.Json(new { url = "ftp://example.com/x", description = "moved" }).ToUrl($"/v1/webhooks/{endpoint["id"]}");
            s.Bearer(Token);
            s.StatusCodeShouldBe(400);
        });
        Assert.NotNull((await refused.ProblemAsync(400))["errors"]!["url"]);

        var stored = await (await Api.Scenario(s => { s.Get.Url($"/v1/webhooks/{endpoint["id"]}"); s.Bearer(Token); })).Json();
        Assert.Equal((string)endpoint["url"]!, (string)stored["url"]!);
        Assert.Equal(endpoint["description"]?.ToJsonString(), stored["description"]?.ToJsonString());
    }

    [Fact]
    public async Task Endpoints_can_be_updated_disabled_and_deleted()
    {
        var endpoint = await Subscribe();
        var updated = await (await Api.Scenario(s =>
        {
            s.Patch.Json(new { enabled = false, description = "paused for maintenance" }).ToUrl($"/v1/webhooks/{endpoint["id"]}");
            s.Bearer(Token);
        })).Json();
        Assert.False((bool)updated["enabled"]!);
        await Settled(() => FailedRun());
        Assert.Empty(_receiver.Received);

        await Api.Scenario(s => { s.Delete.Url($"/v1/webhooks/{endpoint["id"]}"); s.Bearer(Token); s.StatusCodeShouldBe(204); });
        await Api.Scenario(s => { s.Get.Url($"/v1/webhooks/{endpoint["id"]}"); s.Bearer(Token); s.StatusCodeShouldBe(404); });
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

    /// <summary>Five labels of 63 letters: a valid URL whose host DNS cannot resolve (over 255 characters).</summary>
    internal const string LongHost =
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
        + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
        + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com";

    [Fact]
    public async Task A_host_name_too_long_to_resolve_is_a_problem_not_an_exception()
    {
        Assert.True(LongHost.Length > 255);
        Assert.NotNull(Webhooks.WebhookUrls.Problem($"https://{LongHost}/"));
        Assert.NotNull(await Webhooks.WebhookUrls.PrivateNetworkProblem($"https://{LongHost}/", allowPrivate: false, default));
    }

    [Fact]
    public async Task A_receiver_that_trickles_its_answer_is_cut_off_at_the_time_out_and_retried_while_other_endpoints_get_theirs()
    {
        await using var trickler = await Receiver.StartAsync();
        trickler.Trickles = true;
        var tenant = await Fixture.TokenAsync("slow-tenant", [Scopes.RunsRead, Scopes.WebhooksManage]);
        var slow = await Subscribe(new { url = trickler.Url, events = new[] { "run.failed" } }, token: tenant);
        await Subscribe(new { url = _receiver.Url, events = new[] { "run.failed" } });

        // More runs end at once than the host makes deliveries at once: were the trickled answers allowed
        // every slot, the healthy endpoint would wait for their time-outs.
        const int Ended = WebhooksHost.MaxConcurrentDeliveries + 2;
        var runs = await Task.WhenAll(Enumerable.Range(0, Ended).Select(_ => RunningRun()));
        await Task.WhenAll(runs.Select(run => Api.CommandAsync(Token, run, "fail", new { error_summary = "boom" })));

        Assert.Equal(Ended, (await _receiver.WaitForAsync(Ended)).Count);
        var waiting = await Read($"/v1/webhooks/{slow["id"]}/deliveries", tenant);
        Assert.All(waiting["deliveries"]!.AsArray(), d => Assert.Empty(d!["attempts"]!.AsArray()));

        var retried = await WaitForDeliveries(slow, deliveries => deliveries.Any(d => d["attempts"]!.AsArray().Count >= 2), tenant, TimeSpan.FromSeconds(90));
        var attempts = retried.First(d => d["attempts"]!.AsArray().Count >= 2)["attempts"]!.AsArray();
        Assert.All(attempts, a =>
        {
            Assert.Equal(500, (int)a!["response_status"]!);
            Assert.Contains("timed out", (string)a["error"]!);
        });
        Assert.True(trickler.CutOff >= 2);
        await Api.Scenario(s => { s.Patch.Json(new { enabled = false }).ToUrl($"/v1/webhooks/{slow["id"]}"); s.Bearer(tenant); });
    }

    [Fact]
    public async Task An_endpoint_belongs_to_its_token_and_another_cannot_see_change_rotate_delete_or_read_its_deliveries()
    {
        var a = await Fixture.TokenAsync("team-a", [Scopes.RunsRead, Scopes.WebhooksManage]);
        var b = await Fixture.TokenAsync("team-b", [Scopes.RunsRead, Scopes.WebhooksManage]);
        var endpoint = await Subscribe(token: a);
        var id = (string)endpoint["id"]!;
        await FailedRun();
        var delivery = (string)(await WaitForDelivery(endpoint, d => (string)d["status"]! == "succeeded", a))["id"]!;

        var listed = await Read("/v1/webhooks", b);
        Assert.DoesNotContain(id, listed["webhooks"]!.AsArray().Select(w => (string)w!["id"]!));
        Action<Scenario>[] calls =
        [
            s => s.Get.Url($"/v1/webhooks/{id}"),
            s => s.Patch.Json(new { url = "https://b.example.com/steal" }).ToUrl($"/v1/webhooks/{id}"),
            s => s.Post.Url($"/v1/webhooks/{id}/rotate-secret"),
            s => s.Get.Url($"/v1/webhooks/{id}/deliveries"),
            s => s.Post.Url($"/v1/webhooks/{id}/deliveries/{delivery}/redeliver"),
            s => s.Post.Json(new { since = "2020-01-01T00:00:00Z" }).ToUrl($"/v1/webhooks/{id}/recover"),
            s => s.Delete.Url($"/v1/webhooks/{id}"),
        ];
        foreach (var call in calls)
        {
            var answer = await Api.Scenario(s =>
            {
                call(s);
                s.Bearer(b);
                s.StatusCodeShouldBe(404);
            });
            await answer.ProblemAsync(404);
        }

        var mine = await Read($"/v1/webhooks/{id}", a);
        Assert.Equal(_receiver.Url, (string)mine["url"]!);
        Assert.True((bool)mine["enabled"]!);
        Assert.Single((await Read($"/v1/webhooks/{id}/deliveries", a))["deliveries"]!.AsArray());
        Assert.Single(_receiver.Received);
        // An admin over every job sees (and manages) every endpoint.
        Assert.Contains(id, (await Read("/v1/webhooks", _admin))["webhooks"]!.AsArray().Select(w => (string)w!["id"]!));
        Assert.Equal(_receiver.Url, (string)(await Read($"/v1/webhooks/{id}", _admin))["url"]!);
    }

    [Fact]
    public async Task A_token_that_cannot_read_runs_cannot_create_or_change_endpoints()
    {
        var hooksOnly = await Fixture.TokenAsync("hooks-only", [Scopes.WebhooksManage]);
        var refused = await Api.Scenario(s =>
        {
            s.Post.Json(new { url = _receiver.Url, events = new[] { "run.failed" } }).ToUrl("/v1/webhooks");
            s.Bearer(hooksOnly);
            s.StatusCodeShouldBe(403);
        });
        Assert.Contains("runs:read", (string)(await refused.ProblemAsync(403))["detail"]!);

        var endpoint = await Subscribe();
        await Api.Scenario(s =>
        {
            s.Patch.Json(new { description = "mine now" }).ToUrl($"/v1/webhooks/{endpoint["id"]}");
            s.Bearer(hooksOnly);
            s.StatusCodeShouldBe(403);
        });
        Assert.Empty((await Read("/v1/webhooks", hooksOnly))["webhooks"]!.AsArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_endpoint_of_a_revoked_or_expired_token_gets_nothing_and_is_disabled_saying_why(bool revoked)
    {
        var (owner, secret) = await IssueAsync("leaver", [Scopes.RunsRead, Scopes.WebhooksManage]);
        var endpoint = await Subscribe(token: secret);
        if (revoked)
        {
            await Api.Scenario(s => { s.Delete.Url($"/v1/tokens/{owner.Id}"); s.Bearer(_admin); s.StatusCodeShouldBe(204); });
        }
        else
        {
            owner.ExpiresOn = DateTimeOffset.UtcNow.AddSeconds(-1);
            await using var session = Fixture.Store.LightweightSession();
            session.Store(owner);
            await session.SaveChangesAsync();
        }

        await Settled(() => FailedRun());

        Assert.Empty(_receiver.Received);
        var read = await Read($"/v1/webhooks/{endpoint["id"]}", _admin);
        Assert.False((bool)read["enabled"]!);
        Assert.Contains(owner.Id, (string)read["disabled_reason"]!);
        Assert.Contains(revoked ? "revoked" : "expired", (string)read["disabled_reason"]!);
        await Api.Scenario(s =>
        {
            s.Patch.Json(new { enabled = true }).ToUrl($"/v1/webhooks/{endpoint["id"]}");
            s.Bearer(_admin);
            s.StatusCodeShouldBe(409);
        });
    }

    [Fact]
    public async Task An_endpoint_stored_without_an_owner_is_the_admins_and_is_disabled_at_the_next_run_end()
    {
        var now = DateTimeOffset.UtcNow;
        var legacy = new WebhookEndpoint
        {
            Id = WebhookEndpoint.NewId(),
            Url = _receiver.Url,
            Events = WebhookEndpoint.EventTypes,
            Jobs = ["*"],
            CreatedBy = "integrator",
            CreatedOn = now,
            Secrets = [new WebhookSecret(Api.Services.GetRequiredService<Runs.RunSecrets>().Seal(WebhookEndpoint.NewSecret()), now, null)],
        };
        await using (var session = Fixture.Store.LightweightSession())
        {
            session.Store(legacy);
            await session.SaveChangesAsync();
        }
        Assert.Empty((await Read("/v1/webhooks", Token))["webhooks"]!.AsArray());
        await Read($"/v1/webhooks/{legacy.Id}", Token, 404);

        await Settled(() => FailedRun());

        Assert.Empty(_receiver.Received);
        var read = await Read($"/v1/webhooks/{legacy.Id}", _admin);
        Assert.False((bool)read["enabled"]!);
        Assert.Contains("no owner token", (string)read["disabled_reason"]!);
    }

    [Fact]
    public async Task A_token_owns_at_most_the_configured_number_of_endpoints_even_when_it_asks_for_more_at_once()
    {
        var capped = await Fixture.TokenAsync("capped", [Scopes.RunsRead, Scopes.WebhooksManage]);
        var client = Api.Server.CreateClient();
        HttpRequestMessage Create(string token) => new(HttpMethod.Post, "/v1/webhooks")
        {
            Headers = { { "Authorization", $"Bearer {token}" } },
            Content = JsonContent.Create(new { url = _receiver.Url, events = new[] { "run.failed" } }),
        };

        var answers = await Task.WhenAll(Enumerable.Range(0, WebhooksHost.MaxEndpointsPerToken + 3).Select(_ => client.SendAsync(Create(capped))));

        Assert.Equal(WebhooksHost.MaxEndpointsPerToken, answers.Count(a => a.StatusCode == System.Net.HttpStatusCode.Created));
        var refused = answers.Where(a => a.StatusCode != System.Net.HttpStatusCode.Created).ToList();
        Assert.Equal(3, refused.Count);
        foreach (var answer in refused)
        {
            Assert.Equal(System.Net.HttpStatusCode.Conflict, answer.StatusCode);
            Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
            var problem = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!;
            Assert.Equal(WebhooksHost.MaxEndpointsPerToken, (int)problem["limit"]!);
        }
        Assert.Equal(WebhooksHost.MaxEndpointsPerToken, (await Read("/v1/webhooks", capped))["webhooks"]!.AsArray().Count);

        // The cap is per token, and deleting one makes room.
        Assert.Equal(System.Net.HttpStatusCode.Created, (await client.SendAsync(Create(Token))).StatusCode);
        var first = (string)(await Read("/v1/webhooks", capped))["webhooks"]![0]!["id"]!;
        await Api.Scenario(s => { s.Delete.Url($"/v1/webhooks/{first}"); s.Bearer(capped); s.StatusCodeShouldBe(204); });
        Assert.Equal(System.Net.HttpStatusCode.Created, (await client.SendAsync(Create(capped))).StatusCode);
    }

    [Fact]
    public async Task A_terminal_write_enqueues_one_message_however_many_endpoints_subscribe()
    {
        const int Tokens = 3;
        for (var t = 0; t < Tokens; t++)
        {
            var token = await Fixture.TokenAsync($"fan-{t}", [Scopes.RunsRead, Scopes.WebhooksManage]);
            for (var e = 0; e < WebhooksHost.MaxEndpointsPerToken; e++)
            {
                await Subscribe(new { url = _receiver.Url, events = new[] { "run.failed" } }, token: token);
            }
        }
        const int Endpoints = Tokens * WebhooksHost.MaxEndpointsPerToken;
        var run = await RunningRun();

        var tracked = await Settled(() => Api.CommandAsync(Token, run, "fail", new { error_summary = "boom" }));

        var ended = Assert.Single(tracked.Sent.Envelopes(), e => e.Message is RunEnded);
        var deliveries = tracked.Sent.Envelopes().Where(e => e.Message is DeliverWebhook).ToList();
        Assert.Equal(Endpoints, deliveries.Count);
        // Every delivery was sent while the run end was being fanned out, none by the terminal write.
        Assert.All(deliveries, d => Assert.Equal(ended.Id, d.ConversationId));
        Assert.Equal(Endpoints, _receiver.Received.Select(h => h.Id).Distinct().Count());

        await using var connection = new NpgsqlConnection(Fixture.ConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand(
            "select count(*) filter (where d.xmin = e.xmin), count(*) from runs.mt_doc_webhookdelivery d " +
            "join runs.mt_events e on e.stream_id = d.data ->> 'run' and e.type = 'failed' where d.data ->> 'run' = $1", connection);
        query.Parameters.Add(new() { Value = (string)run["id"]! });
        await using var reader = await query.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal(0L, reader.GetInt64(0));
        Assert.Equal(Endpoints, reader.GetInt64(1));
    }

    [Fact]
    public async Task Once_a_run_expires_its_deliveries_hold_no_log_text_and_redelivery_sends_none()
    {
        var endpoint = await Subscribe(new { url = _receiver.Url, events = new[] { "run.failed" }, jobs = new[] { WebhooksHost.ShortLivedJob } });
        var run = await RunningRun(WebhooksHost.ShortLivedJob);
        var id = (string)run["id"]!;
        await Api.Scenario(s => { s.Post.Json(new { lines = new[] { new { level = "error", message = "customer-4711 not billed" } } }).ToUrl($"{run["uri"]}/log"); s.Bearer(Token); });
        await Api.CommandAsync(Token, run, "fail", new { error_summary = "billing failed" });
        var first = Assert.Single(await _receiver.WaitForAsync(1));
        Assert.Contains("customer-4711", first.Body);
        var delivery = await WaitForDelivery(endpoint, d => (string)d["status"]! == "succeeded");

        await using var connection = new NpgsqlConnection(Fixture.ConnectionString);
        await connection.OpenAsync();
        // A delivery stored by an older version kept a copy of the body.
        await using (var older = new NpgsqlCommand("update runs.mt_doc_webhookdelivery set data = data || jsonb_build_object('payload', $1::text) where id = $2", connection))
        {
            older.Parameters.Add(new() { Value = first.Body });
            older.Parameters.Add(new() { Value = (string)delivery["id"]! });
            Assert.Equal(1, await older.ExecuteNonQueryAsync());
        }
        var sweep = Api.Services.GetRequiredService<Retention.RetentionSweep>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!(await sweep.DueAsync(DateTimeOffset.UtcNow, default)).Any(d => d.Id == id) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.Contains(id, (await sweep.SweepAsync()).Select(d => d.Id));

        await using (var kept = new NpgsqlCommand("select count(*) from runs.mt_doc_webhookdelivery where data::text like '%customer-4711%'", connection))
        {
            Assert.Equal(0L, (long)(await kept.ExecuteScalarAsync())!);
        }
        await Api.Scenario(s =>
        {
            s.Post.Url($"/v1/webhooks/{endpoint["id"]}/deliveries/{delivery["id"]}/redeliver");
            s.Bearer(Token);
            s.StatusCodeShouldBe(202);
        });
        var again = (await _receiver.WaitForAsync(2))[1];
        Assert.Equal(first.Id, again.Id);
        Assert.DoesNotContain("customer-4711", again.Body);
        var data = JsonNode.Parse(again.Body)!["data"]!;
        Assert.Empty(data["last_error_lines"]!.AsArray());
        Assert.Equal("billing failed", (string)data["error_summary"]!);
    }

    [Fact]
    public async Task The_api_reference_states_this_servers_endpoint_cap_and_attempt_time_out()
    {
        var document = JsonNode.Parse(await (await Api.Scenario(s => s.Get.Url("/openapi/v1.json"))).ReadAsTextAsync())!;
        var create = document["paths"]!["/v1/webhooks"]!["post"]!;
        var description = (string)create["description"]!;
        Assert.Contains($"at most {WebhooksHost.MaxEndpointsPerToken} endpoints", description);
        Assert.Contains("5 s in all", description);
        Assert.Contains("runs:read", description);
        Assert.Contains($"{WebhooksHost.MaxEndpointsPerToken} endpoints", (string)create["responses"]!["409"]!["description"]!);
    }

    [Fact]
    public async Task Concurrent_rotations_and_changes_lose_nothing_every_secret_handed_out_signs()
    {
        var endpoint = await Subscribe();
        var client = Api.Server.CreateClient();
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => client.SendAsync(i % 2 == 0
            ? new HttpRequestMessage(HttpMethod.Post, $"/v1/webhooks/{endpoint["id"]}/rotate-secret") { Headers = { { "Authorization", $"Bearer {Token}" } } }
            : new HttpRequestMessage(HttpMethod.Patch, $"/v1/webhooks/{endpoint["id"]}")
            {
                Headers = { { "Authorization", $"Bearer {Token}" } },
                Content = JsonContent.Create(new { description = $"change {i}" }),
            })));

        // A request that lost every race says so (409, nothing changed); every other one took effect.
        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { System.Net.HttpStatusCode.OK, System.Net.HttpStatusCode.Conflict }));
        var secrets = new List<string>();
        for (var i = 0; i < answers.Length; i += 2)
        {
            if (answers[i].IsSuccessStatusCode)
            {
                secrets.Add((string)JsonNode.Parse(await answers[i].Content.ReadAsStringAsync())!["secret"]!);
            }
        }
        Assert.NotEmpty(secrets);

        await FailedRun();
        var hook = Assert.Single(await _receiver.WaitForAsync(1));
        Assert.All(secrets, secret => Assert.True(Verifies(hook, secret)));
        Assert.True(Verifies(hook, (string)endpoint["secret"]!));
    }

    /// <summary>
    /// Whether Wolverine's dead letters hold this delivery's message, waiting up to a deadline: the handler's
    /// last attempt saves the delivery's status in a session of its own, then throws, and only then does
    /// Wolverine move the message there.
    /// </summary>
    private async Task<bool> DeadLetteredAsync(string delivery)
    {
        await using var connection = new NpgsqlConnection(Fixture.ConnectionString);
        await connection.OpenAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            await using var query = new NpgsqlCommand(
                "select exists (select 1 from runs.wolverine_dead_letters where exception_message like 'Delivery ' || @delivery || ' %')", connection);
            query.Parameters.AddWithValue("delivery", delivery);
            if ((bool)(await query.ExecuteScalarAsync())!)
            {
                return true;
            }
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(50);
        }
    }

    private async Task<JsonNode> WaitForDelivery(JsonNode endpoint, Func<JsonNode, bool> done, string? token = null) =>
        (await WaitForDeliveries(endpoint, 1, done, token))[0];

    private Task<List<JsonNode>> WaitForDeliveries(JsonNode endpoint, int count, Func<JsonNode, bool> done, string? token = null) =>
        WaitForDeliveries(endpoint, deliveries => deliveries.Count >= count && deliveries.All(done), token);

    private async Task<List<JsonNode>> WaitForDeliveries(JsonNode endpoint, Func<List<JsonNode>, bool> done, string? token = null, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(20));
        List<JsonNode> deliveries;
        do
        {
            var page = await Read($"/v1/webhooks/{endpoint["id"]}/deliveries", token ?? Token);
            deliveries = [.. page["deliveries"]!.AsArray().Select(d => d!)];
            if (done(deliveries))
            {
                return deliveries;
            }
            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"Deliveries never reached the expected state: {string.Join(", ", deliveries.Select(d => d.ToJsonString()))}");
    }
}

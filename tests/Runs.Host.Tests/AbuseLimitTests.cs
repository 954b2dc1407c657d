
namespace Runs.Host.Tests;

[Collection(LimitsCollection.Name)]
public sealed class AbuseLimitTests(LimitsHost fixture)
{
    private readonly IAlbaHost _host = fixture.Host;

    [Fact]
    public async Task Past_its_burst_a_token_gets_429_with_retry_after()
    {
        var token = await fixture.TokenAsync("busy");
        using var client = fixture.ClientFor(token);

        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 20; i++)
        {
            answers.Add(await client.GetAsync("/v1/jobs/nightly/runs/20260101-000000-0123456789abcdef"));
        }

        var limited = answers.First(a => a.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.True(int.Parse(limited.Headers.GetValues("Retry-After").Single()) >= 1);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType!.MediaType);
        Assert.True(answers.Take(3).All(a => a.StatusCode == HttpStatusCode.NotFound));

        var other = await fixture.TokenAsync("quiet");
        await _host.Scenario(s =>
        {
            s.Get.Url("/v1/jobs/nightly/runs/20260101-000000-0123456789abcdef");
            s.Bearer(other);
            s.StatusCodeShouldBe(404);
        });
    }

    [Fact]
    public async Task A_multipart_trigger_over_the_limit_is_413()
    {
        var token = await fixture.TokenAsync("uploader");
        using var form = new MultipartFormDataContent { { new ByteArrayContent(new byte[10_000]), "files", "big.bin" } };
        using var client = fixture.ClientFor(token);

        var response = await client.PostAsync("/v1/jobs/nightly/runs", form);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Without_private_networks_a_delivery_never_connects_to_a_loopback_address()
    {
        await using var receiver = await Receiver.StartAsync();
        var (owner, token) = global::Runs.Host.Tokens.ApiToken.Issue("integrator", global::Runs.Host.Tokens.Scopes.All, ["*"], DateTimeOffset.UtcNow);
        await using (var session = fixture.Store.LightweightSession())
        {
            session.Store(owner);
            // Saved straight to the store: the API refuses such a URL, the delivery must refuse it too.
            session.Store(new Webhooks.WebhookEndpoint
            {
                Id = Webhooks.WebhookEndpoint.NewId(),
                Url = receiver.Url,
                Events = ["run.canceled"],
                Jobs = ["*"],
                OwnerTokenId = owner.Id,
                CreatedOn = DateTimeOffset.UtcNow,
                Secrets = [new Webhooks.WebhookSecret(
                    fixture.Host.Services.GetRequiredService<Runs.RunSecrets>().Seal(Webhooks.WebhookEndpoint.NewSecret()), DateTimeOffset.UtcNow, null)],
            });
            await session.SaveChangesAsync();
        }
        var run = await _host.TriggerAsync(token);
        await _host.CommandAsync(token, run, "cancel");

        Webhooks.WebhookDelivery? delivery = null;
        for (var i = 0; i < 100 && delivery is not { Attempts.Count: > 0 }; i++)
        {
            await Task.Delay(100);
            await using var query = fixture.Store.QuerySession();
            delivery = await Marten.QueryableExtensions.FirstOrDefaultAsync(query.Query<Webhooks.WebhookDelivery>());
        }

        Assert.NotNull(delivery);
        Assert.Contains("internal addresses", delivery!.Attempts[0].Error);
        Assert.Empty(receiver.Received);
    }

    [Fact]
    public async Task A_query_string_over_the_limit_is_414()
    {
        var result = await _host.Scenario(s =>
        {
            s.Get.Url("/v1/jobs/nightly/runs?filter=" + new string('x', 400));
            s.StatusCodeShouldBe(414);
        });
        await result.ProblemAsync(414);
    }

    [Fact]
    public async Task Headers_over_the_limit_are_431()
    {
        var result = await _host.Scenario(s =>
        {
            s.Get.Url("/v1/tokens");
            s.WithRequestHeader("X-Padding", new string('x', 5000));
            s.StatusCodeShouldBe(431);
        });
        await result.ProblemAsync(431);
    }
}

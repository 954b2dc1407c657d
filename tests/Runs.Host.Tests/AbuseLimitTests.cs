using System.Net;
using Alba;
using Runs.Host.Tests.Harness;

namespace Runs.Host.Tests;

[Collection(LimitsCollection.Name)]
public sealed class AbuseLimitTests(LimitsHost fixture)
{
    private readonly IAlbaHost _host = fixture.Host;

    [Fact]
    public async Task Past_its_burst_a_token_gets_429_with_retry_after()
    {
        var token = await fixture.TokenAsync("busy");
        var client = _host.Server.CreateClient();
        client.DefaultRequestHeaders.Add("Authorization", $"Bearer {token}");

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

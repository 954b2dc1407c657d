
namespace Runs.Host.Tests;

[Collection(DefaultCollection.Name)]
public sealed class AuthenticationTests(DefaultHost fixture) : HostSpecification<DefaultHost>(fixture, "tester")
{
    [Fact]
    public async Task No_token_is_401_problem()
    {
        var result = await Api.Scenario(s =>
        {
            s.Post.Json(new { }).ToUrl("/v1/jobs/nightly/runs");
            s.StatusCodeShouldBe(401);
        });
        await result.ProblemAsync(401);
        Assert.Equal("Bearer", result.Context.Response.Headers.WWWAuthenticate.ToString());
    }

    [Fact]
    public async Task An_unknown_token_is_401_problem()
    {
        var result = await Api.Scenario(s =>
        {
            s.Get.Url("/v1/jobs/nightly/runs/20260101-000000-0123456789abcdef");
            s.Bearer("runs_not-a-real-token");
            s.StatusCodeShouldBe(401);
        });
        await result.ProblemAsync(401);
    }

    [Fact]
    public async Task A_malformed_authorization_header_is_401_problem()
    {
        var result = await Api.Scenario(s =>
        {
            s.Get.Url("/v1/jobs/nightly/runs/20260101-000000-0123456789abcdef");
            s.WithRequestHeader("Authorization", "Basic dXNlcjpwYXNz");
            s.StatusCodeShouldBe(401);
        });
        await result.ProblemAsync(401);
    }

    [Fact]
    public async Task A_stored_token_is_accepted()
    {
        var token = await Fixture.TokenAsync();
        await Api.Scenario(s =>
        {
            s.Get.Url("/v1/jobs/nightly/runs/20260101-000000-0123456789abcdef");
            s.Bearer(token);
            s.StatusCodeShouldBe(404);
        });
    }
}


namespace Runs.Host.Tests.Harness;

/// <summary>"Given" states and calls a client makes, as one-liners for the specifications.</summary>
public static class Scenarios
{
    public static void Bearer(this Scenario scenario, string token) =>
        scenario.WithRequestHeader("Authorization", $"Bearer {token}");

    public static async Task<JsonNode> Json(this IScenarioResult result) =>
        JsonNode.Parse(await result.ReadAsTextAsync())!;

    public static async Task<JsonNode> TriggerAsync(this IAlbaHost host, string token, string job = "nightly", object? body = null)
    {
        var result = await host.Scenario(s =>
        {
            s.Post.Json(body ?? new { }).ToUrl($"/v1/jobs/{job}/runs");
            s.Bearer(token);
            s.StatusCodeShouldBe(201);
        });
        return await result.Json();
    }

    /// <summary>Sends a command to a run and returns the answer, whatever its status.</summary>
    public static Task<IScenarioResult> CommandAsync(
        this IAlbaHost host, string token, JsonNode run, string action, object? body = null, int status = 200)
    {
        return host.Scenario(s =>
        {
            var url = $"{run["uri"]}/{action}";
            if (body is null)
            {
                s.Post.Url(url);
            }
            else
            {
                s.Post.Json(body).ToUrl(url);
            }
            s.Bearer(token);
            s.StatusCodeShouldBe(status);
        });
    }

    /// <summary>Posts <paramref name="body"/> as it is, under the given Content-Type, and expects <paramref name="status"/>.</summary>
    public static Task<IScenarioResult> PostTextAsync(this IAlbaHost host, string token, string url, string body, string contentType, int status) =>
        host.Scenario(s =>
        {
            s.Post.Text(body).ToUrl(url);
            s.WithRequestHeader("Content-Type", contentType);
            s.Bearer(token);
            s.StatusCodeShouldBe(status);
        });

    public static async Task<JsonNode> ProblemAsync(this IScenarioResult result, int status)
    {
        Assert.Equal(status, result.Context.Response.StatusCode);
        Assert.StartsWith("application/problem+json", result.Context.Response.ContentType);
        var problem = await result.Json();
        Assert.Equal(status, (int)problem["status"]!);
        Assert.False(string.IsNullOrWhiteSpace((string?)problem["detail"]));
        return problem;
    }
}

using System.Text.Json.Nodes;
using Alba;
using Runs.Host.Tests.Harness;

namespace Runs.Host.Tests;

[Collection(AccessCollection.Name)]
public sealed class OperationsTests(AccessHost fixture)
{
    private readonly IAlbaHost _host = fixture.Host;

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task Health_endpoints_answer_200_without_a_token(string url)
    {
        var result = await _host.Scenario(s => s.Get.Url(url));
        Assert.Equal("Healthy", await result.ReadAsTextAsync());
    }

    [Fact]
    public async Task Metrics_are_served_for_prometheus_without_a_token()
    {
        await _host.Scenario(s => s.Get.Url("/health/live"));
        var result = await _host.Scenario(s => s.Get.Url("/metrics"));
        Assert.Contains("http_server_request_duration", await result.ReadAsTextAsync());
    }

    [Fact]
    public async Task The_openapi_document_describes_the_endpoints()
    {
        var result = await _host.Scenario(s => s.Get.Url("/openapi/v1.json"));
        var document = JsonNode.Parse(await result.ReadAsTextAsync())!;
        var paths = document["paths"]!.AsObject();
        Assert.True(paths.ContainsKey("/v1/jobs/{job}/runs"));
        Assert.True(paths.ContainsKey("/v1/jobs/{job}/runs/{run}"));
        var trigger = paths["/v1/jobs/{job}/runs"]!["post"]!;
        Assert.NotNull(trigger["requestBody"]!["content"]!["application/json"]!["schema"]);
        Assert.NotNull(trigger["requestBody"]!["content"]!["multipart/form-data"]);
        Assert.NotNull(trigger["responses"]!["415"]);
    }

    [Fact]
    public async Task The_openapi_document_states_the_limits_on_free_form_json()
    {
        var result = await _host.Scenario(s => s.Get.Url("/openapi/v1.json"));
        var paths = JsonNode.Parse(await result.ReadAsTextAsync())!["paths"]!;
        string Described(string path, string method, string property, string media = "application/json") =>
            (string?)paths[path]![method]!["requestBody"]!["content"]![media]!["schema"]!["properties"]![property]!["description"] ?? "";

        foreach (var media in new[] { "application/json", "multipart/form-data" })
        {
            var input = Described("/v1/jobs/{job}/runs", "post", "input", media);
            Assert.Contains("at most 65536 bytes", input);
            Assert.Contains("nested at most 32 levels", input);
        }
        foreach (var (path, method, property) in new[]
        {
            ("/v1/jobs/{job}/runs/{run}/telemetry", "post", "summary"),
            ("/v1/jobs/{job}/runs/{run}", "patch", "telemetry_summary"),
            ("/v1/jobs/{job}/runs/{run}/succeed", "post", "telemetry_summary"),
        })
        {
            var summary = Described(path, method, property);
            Assert.Contains("at most 100 keys and 65536 bytes", summary);
            Assert.Contains("PostgreSQL's numeric range", summary);
        }
        Assert.Contains("at most 50 distinct field names", Described("/v1/jobs/{job}/runs/{run}/telemetry", "post", "samples"));
        Assert.Contains("at most 50 distinct field names", Described("/v1/jobs/{job}/runs/{run}", "patch", "append_telemetry_sample"));
    }

    [Fact]
    public async Task Every_v1_route_the_app_maps_is_in_the_openapi_document()
    {
        var result = await _host.Scenario(s => s.Get.Url("/openapi/v1.json"));
        var paths = JsonNode.Parse(await result.ReadAsTextAsync())!["paths"]!.AsObject();

        var routes = RouteTable.V1Routes(_host);
        Assert.NotEmpty(routes);
        Assert.All(routes, route =>
        {
            Assert.True(paths.ContainsKey(route.Pattern), $"{route.Pattern} is missing from the OpenAPI document");
            Assert.True(paths[route.Pattern]!.AsObject().ContainsKey(route.Method.ToLowerInvariant()),
                $"{route.Method} {route.Pattern} is missing from the OpenAPI document");
        });
    }

    [Fact]
    public async Task The_api_reference_page_is_served()
    {
        await _host.Scenario(s =>
        {
            s.Get.Url("/docs");
            s.StatusCodeShouldBe(302);
            s.Header("Location").ShouldHaveValues("docs/");
        });
        var result = await _host.Scenario(s => s.Get.Url("/docs/"));
        Assert.Contains("<html", await result.ReadAsTextAsync(), StringComparison.OrdinalIgnoreCase);
    }
}

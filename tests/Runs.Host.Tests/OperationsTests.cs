using System.Text.RegularExpressions;

namespace Runs.Host.Tests;

[Collection(DefaultCollection.Name)]
public sealed class OperationsTests(DefaultHost fixture)
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
        var document = JsonNode.Parse(await result.ReadAsTextAsync())!;
        var paths = document["paths"]!;
        // A body's schema is inline or a reference into components/schemas.
        JsonNode Resolved(JsonNode schema) =>
            (string?)schema["$ref"] is { } reference ? document["components"]!["schemas"]![reference.Split('/')[^1]]! : schema;
        string Described(string path, string method, string property, string media = "application/json") =>
            (string?)Resolved(paths[path]![method]!["requestBody"]!["content"]![media]!["schema"]!)["properties"]![property]!["description"] ?? "";

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
    public async Task Every_time_in_the_openapi_document_is_a_date_time_string()
    {
        var result = await _host.Scenario(s => s.Get.Url("/openapi/v1.json"));
        var schemas = JsonNode.Parse(await result.ReadAsTextAsync())!["components"]!["schemas"]!.AsObject();

        // Times go through the service's own converter; the generator alone described them as anything ({}).
        var times = schemas.SelectMany(schema => (schema.Value!["properties"]?.AsObject() ?? []).Select(p => (Name: $"{schema.Key}.{p.Key}", Schema: p.Value!)))
            .Where(p => p.Name.EndsWith("_on") || p.Name.EndsWith("_at") || p.Name.EndsWith(".at") || p.Name.EndsWith(".since"))
            .ToList();
        Assert.Contains(times, t => t.Name == "ContinueRunRequest.at");
        Assert.All(times, t =>
        {
            Assert.True((string?)t.Schema["format"] == "date-time", $"{t.Name}: {t.Schema.ToJsonString()}");
            Assert.Contains("string", t.Schema["type"]!.ToJsonString());
        });
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

    private static readonly string[] Methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

    private async Task<JsonNode> DocumentAsync()
    {
        var result = await _host.Scenario(s => s.Get.Url("/openapi/v1.json"));
        return JsonNode.Parse(await result.ReadAsTextAsync())!;
    }

    private static IEnumerable<(string Path, string Method, JsonObject Operation)> Operations(JsonNode document) =>
        document["paths"]!.AsObject().SelectMany(path => path.Value!.AsObject()
            .Where(entry => Methods.Contains(entry.Key))
            .Select(entry => (path.Key, entry.Key, entry.Value!.AsObject())));

    [Theory]
    [InlineData("/v1/runs", "filter page_size page_token", "")]
    [InlineData("/v1/jobs/{job}/runs", "filter page_size page_token", "")]
    [InlineData("/v1/jobs/{job}/runs/{run}/events", "filter page_size page_token", "")]
    [InlineData("/v1/jobs/{job}/runs/{run}/state", "version at", "")]
    [InlineData("/v1/jobs/{job}/runs/{run}/log", "after_id limit tail level", "")]
    [InlineData("/v1/jobs/{job}/runs/{run}/log/stream", "after_id limit tail level", "")]
    [InlineData("/v1/logs/search", "q filter level page_size page_token", "q")]
    [InlineData("/v1/stats/daily", "time_zone start_date end_date filter", "time_zone")]
    [InlineData("/v1/ledger/checkpoints", "page_size page_token", "")]
    [InlineData("/v1/webhooks/{id}/deliveries", "page_size page_token", "")]
    public async Task A_read_lists_the_query_parameters_it_understands(string path, string names, string required)
    {
        var parameters = (await DocumentAsync())["paths"]![path]!["get"]!["parameters"]!.AsArray()
            .Where(p => (string?)p!["in"] == "query").ToList();
        Assert.Equal(names.Split(' '), parameters.Select(p => (string)p!["name"]!));
        Assert.All(parameters, p => Assert.False(string.IsNullOrWhiteSpace((string?)p!["description"])));
        Assert.Equal(required.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            parameters.Where(p => (bool?)p!["required"] == true).Select(p => (string)p!["name"]!));
    }

    [Fact]
    public async Task Every_v1_operation_asks_for_the_bearer_token_and_the_operational_ones_for_none()
    {
        var document = await DocumentAsync();
        var scheme = document["components"]!["securitySchemes"]!["Bearer"]!;
        Assert.Equal("http", (string?)scheme["type"]);
        Assert.Equal("bearer", (string?)scheme["scheme"]);
        Assert.Null(document["security"]);

        var operations = Operations(document).ToList();
        Assert.All(operations.Where(o => o.Path.StartsWith("/v1/", StringComparison.Ordinal)), o =>
        {
            var requirements = o.Operation["security"]?.AsArray();
            Assert.True(requirements is [JsonObject { Count: 1 } requirement] && requirement.ContainsKey("Bearer"),
                $"{o.Method} {o.Path} does not ask for the bearer token: {requirements?.ToJsonString() ?? "no security"}");
        });
        var open = operations.Where(o => !o.Path.StartsWith("/v1/", StringComparison.Ordinal)).ToList();
        Assert.Equal(["/health/live", "/health/ready", "/metrics"], open.Select(o => o.Path).Order());
        Assert.All(open, o => Assert.Equal("[]", o.Operation["security"]?.ToJsonString()));
    }

    [Fact]
    public async Task The_operations_documented_without_a_token_answer_without_one()
    {
        var open = Operations(await DocumentAsync()).Where(o => o.Operation["security"] is JsonArray { Count: 0 }).ToList();
        Assert.NotEmpty(open);
        foreach (var (path, _, _) in open)
        {
            await _host.Scenario(s =>
            {
                s.Get.Url(path);
                s.StatusCodeShouldBeOk();
            });
        }
    }

    [Fact]
    public async Task Every_operation_has_a_summary_and_a_readable_unique_operation_id()
    {
        var operations = Operations(await DocumentAsync()).ToList();
        Assert.NotEmpty(operations);
        Assert.All(operations, o =>
        {
            var summary = (string?)o.Operation["summary"];
            Assert.False(string.IsNullOrWhiteSpace(summary), $"{o.Method} {o.Path} has no summary");
            // Wolverine's fallback is the route spelled as an identifier ("POST_v1_webhooks").
            Assert.DoesNotMatch("^[A-Z]+_", summary);
            Assert.Matches("^[a-z][A-Za-z]+$", (string?)o.Operation["operationId"]);
        });
        var ids = operations.Select(o => (string)o.Operation["operationId"]!).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public async Task Tags_come_in_the_order_a_reader_needs_them_and_each_says_what_it_holds()
    {
        var document = await DocumentAsync();
        var tags = document["tags"]!.AsArray().Select(t => t!.AsObject()).ToList();
        Assert.Equal(
            ["Writing runs", "Reading runs", "Logs and telemetry", "Outputs", "Auditing", "Ledger", "Jobs and statistics", "Webhooks", "Tokens", "Operations"],
            tags.Select(t => (string)t["name"]!));
        Assert.All(tags, t => Assert.False(string.IsNullOrWhiteSpace((string?)t["description"]), $"tag {t["name"]} has no description"));
        var declared = tags.Select(t => (string)t["name"]!).ToHashSet();
        Assert.All(Operations(document), o =>
        {
            var used = o.Operation["tags"]?.AsArray().Select(t => (string)t!).ToList() ?? [];
            Assert.True(used is [var tag] && declared.Contains(tag), $"{o.Method} {o.Path} has tags [{string.Join(", ", used)}]");
        });
    }

    [Fact]
    public async Task The_document_introduces_the_api()
    {
        var info = (await DocumentAsync())["info"]!;
        Assert.Equal("Runs ledger API", (string?)info["title"]);
        Assert.Contains("Authorization: Bearer <token>", (string)info["description"]!);
    }

    [Fact]
    public async Task The_api_reference_page_takes_a_token_and_calls_no_third_party()
    {
        var result = await _host.Scenario(s => s.Get.Url("/docs/"));
        var html = await result.ReadAsTextAsync();
        var configuration = JsonNode.Parse(Regex.Match(html, @"^\s*(\{.*\}),\s*$", RegexOptions.Multiline).Groups[1].Value)!;
        Assert.Equal("summary", (string?)configuration["operationTitleSource"]);
        Assert.Equal("Bearer", (string?)configuration["authentication"]!["preferredSecurityScheme"]![0]);
        Assert.False((bool)configuration["telemetry"]!);
        Assert.False((bool)configuration["withDefaultFonts"]!);
        Assert.True((bool)configuration["agent"]!["disabled"]!);
        Assert.True((bool)configuration["mcp"]!["disabled"]!);
        Assert.Equal("never", (string?)configuration["showDeveloperTools"]);
        // The page's scripts come from this service, not from a CDN.
        Assert.DoesNotMatch(@"src=""(https?:)?//", html);
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

[Collection(LimitsCollection.Name)]
public sealed class ApiReferenceLimitsTests(LimitsHost fixture)
{
    [Fact]
    public async Task The_document_states_the_limits_this_server_is_configured_with()
    {
        var result = await fixture.Host.Scenario(s => s.Get.Url("/openapi/v1.json"));
        var description = (string)JsonNode.Parse(await result.ReadAsTextAsync())!["info"]!["description"]!;
        Assert.Contains("requests per token: 1 a second, bursts of 3", description);
        Assert.Contains("multipart trigger 4 KiB", description);
        Assert.Contains("query string: 300 characters", description);
    }
}


namespace Runs.Host.Operations;

/// <summary>
/// Health checks and the Prometheus endpoint are not Wolverine endpoints, so the generator does not see
/// them; they are described here for the load balancers and scrapers that call them. They need no token.
/// </summary>
public static class OperationalPaths
{
    private const string Tag = "Operations";

    public static void Add(OpenApiDocument document)
    {
        document.Paths["/health/live"] = Get("checkLiveness", "Check that the process answers",
            "Always `Healthy` while the process can answer requests; no dependency is checked.",
            ("200", Text("Healthy", "The process answers.")));
        document.Paths["/health/ready"] = Get("checkReadiness", "Check that the service can take requests",
            "`Healthy` when the database answers; `Unhealthy` with 503 when it does not.",
            ("200", Text("Healthy", "The database answers.")),
            ("503", Text("Unhealthy", "The database does not answer.")));
        document.Paths["/metrics"] = Get("scrapeMetrics", "Scrape metrics in the Prometheus format",
            "HTTP server, Kestrel, rate limiter, Wolverine, Marten and Npgsql meters in the Prometheus text exposition format.",
            ("200", Text("# TYPE http_server_request_duration_seconds histogram", "The current metrics.")));
    }

    private static OpenApiResponse Text(string example, string description) =>
        new()
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["text/plain"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String }, Example = JsonValue.Create(example) },
            },
        };

    private static OpenApiPathItem Get(string id, string summary, string description,
        params (string Status, OpenApiResponse Response)[] answers)
    {
        var responses = new OpenApiResponses();
        foreach (var (status, response) in answers)
        {
            responses[status] = response;
        }
        // The abuse limits look at every request, these included.
        responses["414"] = new OpenApiResponse { Description = "application/problem+json: the query string is too long" };
        responses["431"] = new OpenApiResponse { Description = "application/problem+json: the request headers are too large" };
        var operation = new OpenApiOperation
        {
            OperationId = id,
            Summary = summary,
            Description = description,
            Tags = new HashSet<OpenApiTagReference> { new(Tag) },
            Responses = responses,
            Security = [],
        };
        var path = new OpenApiPathItem();
        path.AddOperation(HttpMethod.Get, operation);
        return path;
    }
}


namespace Runs.Host.Webhooks;

/// <summary>What a client registering an endpoint meets, stated in the OpenAPI document with this server's values.</summary>
public static class WebhookLimits
{
    public static void Describe(OpenApiOptions options) =>
        options.AddOperationTransformer((operation, context, _) =>
        {
            if (operation.OperationId != CreateWebhookEndpoint.OperationId)
            {
                return Task.CompletedTask;
            }
            var webhooks = context.ApplicationServices.GetRequiredService<IOptions<RunsOptions>>().Value.Webhooks;
            var timeout = $"{webhooks.Timeout.TotalSeconds:0.###} s";
            operation.Description = $"""
                Needs `webhooks:manage` and `runs:read` (403 otherwise): an endpoint receives the runs of its jobs.
                The endpoint belongs to the calling token: only that token (or an `admin` token over every job)
                sees it, changes it, rotates its secret, deletes it and reads its deliveries. When the token is
                revoked or expires, the endpoint is disabled at the next run end it would have received.

                A token may own at most {webhooks.MaxEndpointsPerToken} endpoints (409 past that). Each delivery
                attempt has {timeout} in all to connect, send and get the answer (for a failure, its first 4 KiB);
                a receiver that answers more slowly is cut off, and the attempt is retried like any failure.
                """;
            operation.Responses ??= new OpenApiResponses();
            operation.Responses["409"] = new OpenApiResponse
            {
                Description = $"application/problem+json: the token already owns {webhooks.MaxEndpointsPerToken} endpoints (`limit`)",
            };
            return Task.CompletedTask;
        });
}

using Microsoft.AspNetCore.OpenApi;

namespace Runs.Host.Http;

/// <summary>Every /v1 operation can answer with problem+json; the document says so once for all of them.</summary>
public static class OpenApiProblems
{
    private static readonly string[] Statuses = ["400", "401", "403", "404", "409", "412", "413", "415", "429"];

    public static void Describe(OpenApiOptions options) =>
        options.AddOperationTransformer((operation, context, _) =>
        {
            if (context.Description.RelativePath?.StartsWith("v1/", StringComparison.Ordinal) == true)
            {
                operation.Responses ??= new OpenApiResponses();
                foreach (var status in Statuses.Where(s => !operation.Responses.ContainsKey(s)))
                {
                    operation.Responses[status] = new OpenApiResponse
                    {
                        Description = "application/problem+json (RFC 9457) saying what is wrong",
                    };
                }
            }
            return Task.CompletedTask;
        });
}

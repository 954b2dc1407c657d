using Microsoft.AspNetCore.Http.Metadata;

namespace Runs.Host.Http;

/// <summary>
/// Endpoints read their bodies themselves (to answer 413/415/400 the contract's way), so the OpenAPI
/// generator cannot see them; their <c>[Consumes]</c> metadata says what they take, and every /v1
/// operation can answer with problem+json.
/// </summary>
public static class OpenApiBodies
{
    private static readonly string[] Problems = ["400", "401", "403", "404", "409", "412", "413", "415", "429"];

    public static void Describe(OpenApiOptions options) =>
        options.AddOperationTransformer(async (operation, context, cancellation) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (operation.RequestBody is null && metadata.OfType<IAcceptsMetadata>().FirstOrDefault() is { RequestType: { } type } accepts)
            {
                var schema = await context.GetOrCreateSchemaAsync(type, null, cancellation);
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = !accepts.IsOptional,
                    Content = accepts.ContentTypes.ToDictionary(c => c, _ => new OpenApiMediaType { Schema = schema }),
                };
            }
            if (context.Description.RelativePath?.StartsWith("v1/", StringComparison.Ordinal) == true)
            {
                operation.Responses ??= new OpenApiResponses();
                foreach (var status in Problems.Where(s => !operation.Responses.ContainsKey(s)))
                {
                    operation.Responses[status] = new OpenApiResponse
                    {
                        Description = "application/problem+json (RFC 9457) saying what is wrong",
                    };
                }
            }
        });
}

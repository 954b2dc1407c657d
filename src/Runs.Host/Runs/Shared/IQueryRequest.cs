using JasperFx.Core.Reflection;
using System.Reflection;
using Wolverine.Http;

namespace Runs.Host.Runs.Shared;

/// <summary>
/// A read's query string as a type: <see cref="RunPipeline"/> reads it before the endpoint runs, so a
/// parameter that is malformed or out of range is a 400 naming it, answered in one place; and the OpenAPI
/// document lists the parameters it declares.
/// </summary>
public interface IQueryRequest<TSelf> where TSelf : class, IQueryRequest<TSelf>
{
    static abstract (TSelf? Query, IResult? Refusal) Read(HttpRequest request);

    /// <summary>The query parameters <see cref="Read"/> understands, as the OpenAPI document describes them.</summary>
    static abstract IEnumerable<OpenApiParameter> Parameters { get; }
}

/// <summary>The query parameters reads share, and the transformer that puts each endpoint's into the OpenAPI document.</summary>
public static class QueryParameters
{
    public static OpenApiParameter Of(string name, string description, JsonSchemaType type = JsonSchemaType.String, bool required = false) =>
        new() { Name = name, In = ParameterLocation.Query, Required = required, Description = description, Schema = new OpenApiSchema { Type = type } };

    public static IEnumerable<OpenApiParameter> Paging(int fallback, int max, string things)
    {
        var size = Of("page_size", $"{things} per page, {fallback} when absent; values above {max} are treated as {max}.", JsonSchemaType.Integer);
        size.Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1", Default = fallback };
        yield return size;
        yield return Of("page_token", "The previous page's next_page_token.");
    }

    public static OpenApiParameter Filter(string description)
    {
        var filter = Of("filter", description);
        filter.Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = Filters.MaxLength };
        return filter;
    }

    public static void Describe(OpenApiOptions options) =>
        options.AddOperationTransformer((operation, context, _) =>
        {
            var query = (context.Description.ActionDescriptor as WolverineActionDescriptor)?.Chain.Method.Method.GetParameters()
                .FirstOrDefault(p => p.Name == RunPipeline.QueryParameter && p.ParameterType.Closes(typeof(IQueryRequest<>)));
            if (query?.ParameterType.GetProperty("Parameters", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) is IEnumerable<OpenApiParameter> parameters)
            {
                operation.Parameters ??= [];
                foreach (var parameter in parameters)
                {
                    operation.Parameters.Add(parameter);
                }
            }
            return Task.CompletedTask;
        });
}

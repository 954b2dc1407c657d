using Microsoft.AspNetCore.Routing;

namespace Runs.Host.Tests.Harness;

public sealed record Route(string Method, string Pattern);

/// <summary>Every route the app maps, read from its endpoint data sources, so none can be forgotten.</summary>
public static class RouteTable
{
    public static IReadOnlyList<Route> V1Routes(IAlbaHost host) =>
        [.. host.Services.GetServices<EndpointDataSource>()
            .SelectMany(source => source.Endpoints)
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.TrimStart('/').StartsWith("v1/", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(m => new Route(m, "/" + e.RoutePattern.RawText!.TrimStart('/'))))
            .Distinct()];
}


namespace Runs.Host.Runs.Shared;

/// <summary>
/// A document the route names, loaded by <see cref="RunPipeline"/> before the endpoint runs — with the check
/// that the caller may see it — so a missing or foreign one is answered in one place.
/// </summary>
public interface IRouteResource<TSelf> where TSelf : class, IRouteResource<TSelf>
{
    static abstract Task<(TSelf? Resource, IResult? Refusal)> LoadAsync(HttpContext http, IQuerySession session);
}


namespace Runs.Host.Runs.Shared;

/// <summary>
/// A read's query string as a type: <see cref="RunPipeline"/> reads it before the endpoint runs, so a
/// parameter that is malformed or out of range is a 400 naming it, answered in one place.
/// </summary>
public interface IQueryRequest<TSelf> where TSelf : class, IQueryRequest<TSelf>
{
    static abstract (TSelf? Query, IResult? Refusal) Read(HttpRequest request);
}

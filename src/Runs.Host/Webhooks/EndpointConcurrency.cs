using System.Threading.RateLimiting;

namespace Runs.Host.Webhooks;

/// <summary>
/// How many attempts this host has under way per endpoint, capped at
/// <c>Runs:Webhooks:MaxConcurrentDeliveriesPerEndpoint</c>: a slow or silent receiver holds at most that
/// many of the delivery queue's slots, and the rest keep serving every other endpoint.
/// </summary>
public sealed class EndpointConcurrency(int perEndpoint) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(endpointId =>
        RateLimitPartition.GetConcurrencyLimiter(endpointId, _ => new ConcurrencyLimiterOptions { PermitLimit = perEndpoint, QueueLimit = 0 }));

    /// <summary>A turn for one attempt (dispose it when the attempt is over), or one that was not acquired.</summary>
    public RateLimitLease TryEnter(string endpointId) => _limiter.AttemptAcquire(endpointId);

    public void Dispose() => _limiter.Dispose();
}

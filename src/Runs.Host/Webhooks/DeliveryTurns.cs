
namespace Runs.Host.Webhooks;

/// <summary>
/// Turns at delivering, per owner token, on this host: <c>Runs:Webhooks:MaxConcurrentDeliveriesPerToken</c>
/// attempts to one token's endpoints at once, as many more waiting in line (each for at most one attempt's
/// time-out). However slow or silent its receivers, one token holds at most twice that many of the
/// delivery queue's slots, and the rest keep serving every other token's endpoints.
/// </summary>
public sealed class DeliveryTurns(int perToken) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(owner =>
        RateLimitPartition.GetConcurrencyLimiter(owner, _ => new ConcurrencyLimiterOptions
        {
            PermitLimit = perToken,
            QueueLimit = perToken,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        }));

    /// <summary>A turn for one attempt (dispose it when the attempt is over); not acquired when the line is full too.</summary>
    public ValueTask<RateLimitLease> WaitAsync(string owner, CancellationToken cancellation) =>
        _limiter.AcquireAsync(owner, 1, cancellation);

    public void Dispose() => _limiter.Dispose();
}

using System.Security.Cryptography;
using System.Text;
using Marten;

namespace Runs.Host.Runs.Triggering;

/// <summary>
/// The first answer to a trigger sent with an <c>Idempotency-Key</c>, kept so that a retry with the
/// same key and body gets the same answer. Keys are scoped to the token and the job.
/// </summary>
public sealed class IdempotentTrigger
{
    public string Id { get; set; } = "";
    public string Fingerprint { get; set; } = "";
    public int Status { get; set; }
    public string Location { get; set; } = "";
    public string Response { get; set; } = "";
    public DateTimeOffset ExpiresOn { get; set; }

    public const string Header = "Idempotency-Key";

    public static string IdFor(string tokenId, string job, string key) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{tokenId}\n{job}\n{key}")));

    public static bool IsUsableKey(string key) => key.Length is > 0 and <= 255 && key.All(c => c is >= ' ' and <= '~');
}

/// <summary>Removes expired idempotency records; several hosts doing it at once is harmless.</summary>
public sealed class IdempotencyCleanup(IDocumentStore store, TimeProvider clock, ILogger<IdempotencyCleanup> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    public static async Task RemoveExpiredAsync(IDocumentStore store, DateTimeOffset now, CancellationToken cancellation)
    {
        await using var session = store.LightweightSession();
        session.DeleteWhere<IdempotentTrigger>(t => t.ExpiresOn < now);
        await session.SaveChangesAsync(cancellation);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RemoveExpiredAsync(store, clock.GetUtcNow(), stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Removing expired idempotency keys failed; retrying in {Interval}.", Interval);
            }
        }
    }
}

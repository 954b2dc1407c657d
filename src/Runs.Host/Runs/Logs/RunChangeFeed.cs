using System.Collections.Concurrent;
using System.Threading.Channels;
using Npgsql;
using Runs.Projections;

namespace Runs.Host.Runs.Logs;

/// <summary>
/// One LISTEN connection per host relays committed run changes (from any host) to the live streams
/// of this host. A signal only says "look again": readers re-read storage after their last line id,
/// so a lost or merged signal can delay a line but never lose or repeat one.
/// </summary>
public sealed class RunChangeFeed(NpgsqlDataSource database, ILogger<RunChangeFeed> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Channel<bool>, byte>> _listeners = new();

    public Subscription Subscribe(string runId)
    {
        var signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        _listeners.GetOrAdd(runId, _ => new()).TryAdd(signal, 0);
        return new Subscription(signal.Reader, () =>
        {
            if (_listeners.TryGetValue(runId, out var set))
            {
                set.TryRemove(signal, out _);
            }
        });
    }

    private void Signal(string runId)
    {
        if (_listeners.TryGetValue(runId, out var set))
        {
            foreach (var signal in set.Keys)
            {
                signal.Writer.TryWrite(true);
            }
        }
    }

    private void SignalEveryone()
    {
        foreach (var runId in _listeners.Keys)
        {
            Signal(runId);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await database.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => Signal(e.Payload);
                await using (var listen = new NpgsqlCommand($"listen {RunChanges.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                // Changes made while we were not listening are picked up by re-reading.
                SignalEveryone();
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Listening for run changes failed; reconnecting in 1 s.");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    public sealed class Subscription(ChannelReader<bool> changes, Action unsubscribe) : IDisposable
    {
        public ChannelReader<bool> Changes { get; } = changes;

        public void Dispose() => unsubscribe();
    }
}

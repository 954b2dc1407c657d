using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Runs.Host.Runs.Logs;

/// <summary>
/// One LISTEN connection per host relays committed run changes (from any host) to this host's live
/// streams. Per watched run the host keeps one <see cref="RunTail"/>: on each change it reads the new
/// lines and the run's state once, for every stream of that run, and then wakes the streams. A stream
/// whose position the tail does not cover reads storage itself; either way it continues after the last
/// line id it saw, so a lost or merged signal can delay a line but never lose or repeat one.
/// </summary>
public sealed class RunChangeFeed(NpgsqlDataSource database, IDocumentStore store, IOptions<RunsOptions> options, ILogger<RunChangeFeed> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, RunTail> _tails = new();

    public Subscription Subscribe(string runId)
    {
        var signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        var tail = _tails.AddOrUpdate(runId, _ => new RunTail(runId, options.Value.Sse.TailBytes), (_, existing) => existing);
        lock (tail)
        {
            tail.Listeners.Add(signal);
        }
        Changed(runId);
        return new Subscription(tail, signal.Reader, () =>
        {
            lock (tail)
            {
                tail.Listeners.Remove(signal);
                if (tail.Listeners.Count == 0)
                {
                    _tails.TryRemove(new KeyValuePair<string, RunTail>(runId, tail));
                }
            }
        });
    }

    private void Changed(string runId)
    {
        if (_tails.TryGetValue(runId, out var tail) && tail.MarkDirty())
        {
            _ = Task.Run(() => RefreshAsync(tail));
        }
    }

    private async Task RefreshAsync(RunTail tail)
    {
        do
        {
            try
            {
                await tail.RefreshAsync(database, store, CancellationToken.None);
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Reading new lines of run {Run} failed; its streams will read storage themselves.", tail.RunId);
                tail.Invalidate();
            }
            tail.Wake();
        }
        while (tail.FinishRefresh());
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await database.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => Changed(e.Payload);
                await using (var listen = new NpgsqlCommand($"listen {RunChanges.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                // Changes made while we were not listening are picked up by reading again.
                foreach (var runId in _tails.Keys)
                {
                    Changed(runId);
                }
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

    public sealed class Subscription(RunTail tail, ChannelReader<bool> changes, Action unsubscribe) : IDisposable
    {
        public RunTail Tail { get; } = tail;

        public ChannelReader<bool> Changes { get; } = changes;

        public void Dispose() => unsubscribe();
    }
}

/// <summary>
/// The latest lines (all levels, internal ones too) and state of one watched run, shared by its streams.
/// It holds at most <see cref="Capacity"/> lines and <see cref="SseOptions.TailBytes"/> of their text, and
/// each refresh reads only the newest lines within those bounds: a burst of appends costs one bounded read,
/// and a stream further behind reads storage itself, page by page.
/// </summary>
public sealed class RunTail(string runId, long maxBytes)
{
    public const int Capacity = 4096;

    private readonly List<LogLine> _lines = [];
    private long _bytes;
    private long _through = -1;
    private Run? _state;
    private int _refresh;

    public string RunId { get; } = runId;

    public List<Channel<bool>> Listeners { get; } = [];

    /// <summary>
    /// At most <paramref name="max"/> lines after <paramref name="afterId"/> and the run's state, when this tail
    /// covers that position. Line ids are gap-free, so the lines after a position are one slice of the tail.
    /// </summary>
    public bool TryRead(long afterId, int max, out List<LogLine> lines, out Run? state)
    {
        lock (_lines)
        {
            state = _state;
            var covered = _through >= 0 && afterId <= _through && (_lines.Count == 0 ? afterId >= _through : afterId >= _lines[0].Id - 1);
            if (covered && _lines.Count > 0)
            {
                var from = (int)(afterId - (_lines[0].Id - 1));
                lines = _lines.GetRange(from, Math.Min(max, _lines.Count - from));
            }
            else
            {
                lines = [];
            }
            return covered || (_through >= 0 && afterId > _through);
        }
    }

    public async Task RefreshAsync(NpgsqlDataSource database, IDocumentStore store, CancellationToken cancellation)
    {
        // The state first: lines its events describe were committed with it, so they are read next.
        await using var session = store.QuerySession();
        var state = await session.LoadAsync<Run>(RunId, cancellation);
        long through;
        lock (_lines)
        {
            through = _through;
        }
        var fresh = await LogLineStore.ReadAsync(database, RunId,
            new LogLineStore.Range(AfterId: Math.Max(through, 0), IncludeInternal: true, Tail: Capacity, MaxBytes: maxBytes), cancellation);
        lock (_lines)
        {
            if (_through != through)
            {
                return;
            }
            if (fresh.Count > 0 && fresh[0].Id != through + 1)
            {
                // Lines were skipped to stay within the bounds: what the tail held no longer joins on.
                _lines.Clear();
                _bytes = 0;
            }
            foreach (var line in fresh)
            {
                _lines.Add(line);
                _bytes += Encoding.UTF8.GetByteCount(line.Message);
            }
            var drop = 0;
            while (drop < _lines.Count && (_lines.Count - drop > Capacity || _bytes > maxBytes))
            {
                _bytes -= Encoding.UTF8.GetByteCount(_lines[drop++].Message);
            }
            _lines.RemoveRange(0, drop);
            _through = fresh.Count > 0 ? fresh[^1].Id : Math.Max(through, 0);
            if (through < 0 && fresh.Count == 0 && state is not null)
            {
                _through = state.LastLineId;
            }
            _state = state;
        }
    }

    public void Invalidate()
    {
        lock (_lines)
        {
            _lines.Clear();
            _bytes = 0;
            _through = -1;
            _state = null;
        }
    }

    public void Wake()
    {
        lock (this)
        {
            foreach (var listener in Listeners)
            {
                listener.Writer.TryWrite(true);
            }
        }
    }

    /// <summary>True when this call should start a refresh; otherwise one is running and will run again.</summary>
    public bool MarkDirty() => Interlocked.Increment(ref _refresh) == 1;

    /// <summary>True when changes arrived during the refresh, so it must run again.</summary>
    public bool FinishRefresh() => Interlocked.Exchange(ref _refresh, 1) > 1 || Interlocked.CompareExchange(ref _refresh, 0, 1) != 1;
}

using System.Threading.Channels;
using SessionOptions = Marten.Services.SessionOptions;

namespace Runs.Host.Runs.Writing;

/// <summary>
/// Group commit for log appends: concurrent writes are gathered into one PostgreSQL transaction, so a busy host
/// pays one commit (one WAL flush) for many appends. Each write still runs as it would alone — its own Marten
/// session, metadata, run lock, If-Match and Idempotency-Key — inside a savepoint of the shared transaction, so
/// a write that fails is rolled back alone and its neighbours commit. Nothing is answered before the commit
/// that holds it.
/// <para>
/// Writes go to one of <see cref="LogsOptions.CommitLanes"/> lanes by run, so one run's appends keep their
/// order (and its line ids stay gap-free); a lane takes whatever has queued while it committed, up to
/// <see cref="LogsOptions.MaxAppendsPerCommit"/>, so an idle host adds no wait and a busy one groups more.
/// Within a group runs are locked in id order, the same on every host, so two hosts' groups cannot deadlock.
/// </para>
/// </summary>
public sealed class GroupCommit : IAsyncDisposable
{
    private readonly IDocumentStore _store;
    private readonly RunChanges _changes;
    private readonly ILogger<GroupCommit> _logger;
    private readonly int _maxGroup;
    private readonly Channel<Write>[] _lanes;
    private readonly Task[] _committing;

    public GroupCommit(IDocumentStore store, RunChanges changes, IOptions<RunsOptions> options, ILogger<GroupCommit> logger)
    {
        _store = store;
        _changes = changes;
        _logger = logger;
        _maxGroup = options.Value.Logs.MaxAppendsPerCommit;
        _lanes = [.. Enumerable.Range(0, options.Value.Logs.CommitLanes).Select(_ => Channel.CreateUnbounded<Write>(new() { SingleReader = true }))];
        _committing = [.. _lanes.Select(lane => Task.Run(() => CommitAsync(lane.Reader)))];
    }

    /// <summary>
    /// Writes to the run the route names what <paramref name="decide"/> decides, as <see cref="RunPipeline"/> does
    /// for a write committed alone; the answer is the refusal or the decision, once committed.
    /// </summary>
    public Task<IResult> WriteAsync(HttpContext http, object? command, Func<Run, RunAnswer> decide)
    {
        var runId = (string)http.Request.RouteValues["run"]!;
        var metadata = EventMetadata.Of(http, http.User);
        var write = new Write(runId, Activity.Current, async session =>
        {
            metadata.Stamp(session);
            var (stream, refusal) = await RunWrites.LoadAsync(http, session, command);
            if (refusal is not null)
            {
                return refusal;
            }
            var answer = decide(stream!.Aggregate!);
            await RunWrites.CompleteAsync(http, answer, stream, session);
            await session.SaveChangesAsync();
            return answer;
        });
        _lanes[(int)((uint)string.GetHashCode(runId, StringComparison.Ordinal) % (uint)_lanes.Length)].Writer.TryWrite(write);
        return write.Answer;
    }

    private async Task CommitAsync(ChannelReader<Write> lane)
    {
        var group = new List<Write>(_maxGroup);
        while (await lane.WaitToReadAsync())
        {
            while (group.Count < _maxGroup && lane.TryRead(out var write))
            {
                group.Add(write);
            }
            await CommitAsync(group);
            group.Clear();
        }
    }

    private async Task CommitAsync(List<Write> group)
    {
        var written = new List<(Write Write, IResult Answer)>(group.Count);
        try
        {
            using var held = _changes.HoldUntilCommit();
            await using var connection = _store.Storage.Database.CreateConnection();
            await connection.OpenAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            foreach (var write in group.OrderBy(w => w.RunId, StringComparer.Ordinal))
            {
                await transaction.SaveAsync("write");
                var outer = Activity.Current;
                // The write's database calls are traced under its request.
                Activity.Current = write.Request;
                try
                {
                    await using var session = _store.LightweightSession(SessionOptions.ForTransaction(transaction));
                    written.Add((write, await write.Run(session)));
                    await transaction.ReleaseAsync("write");
                }
                catch (Exception e) when (e is not NpgsqlException { IsTransient: true })
                {
                    await transaction.RollbackAsync("write");
                    write.Fail(e);
                }
                finally
                {
                    Activity.Current = outer;
                }
            }
            await transaction.CommitAsync();
            held.Release();
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "A group of {Count} log appends could not commit; each is answered with the failure.", group.Count);
            foreach (var write in group)
            {
                write.Fail(e);
            }
            return;
        }
        foreach (var (write, answer) in written)
        {
            write.Succeed(answer);
        }
    }

    /// <summary>Stops taking writes and commits what is queued.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var lane in _lanes)
        {
            lane.Writer.TryComplete();
        }
        await Task.WhenAll(_committing);
    }

    private sealed class Write(string runId, Activity? request, Func<IDocumentSession, Task<IResult>> run)
    {
        private readonly TaskCompletionSource<IResult> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string RunId { get; } = runId;
        public Activity? Request { get; } = request;
        public Func<IDocumentSession, Task<IResult>> Run { get; } = run;
        public Task<IResult> Answer => _answer.Task;

        public void Succeed(IResult answer) => _answer.TrySetResult(answer);

        public void Fail(Exception e) => _answer.TrySetException(e);
    }
}

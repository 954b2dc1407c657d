using System.Data;
using System.Threading.Channels;
using Npgsql;
using SessionOptions = Marten.Services.SessionOptions;

namespace Runs.Host.Runs.Writing;

/// <summary>
/// Group commit for log appends: concurrent writes are gathered into one PostgreSQL transaction, so a busy host
/// pays one commit (one WAL flush) for many appends. Each write still runs as it would alone — its own Marten
/// session, metadata, run lock, If-Match and Idempotency-Key — in the shared transaction. If any write of a
/// group fails, nothing of the group is stored and each is tried again alone, so a failing write does not fail
/// its neighbours (and costs its group the grouping, not more round trips for every write, as savepoints would).
/// Nothing is answered before the commit that holds it.
/// <para>
/// Writes go to one of <see cref="LogsOptions.CommitLanes"/> lanes by run, so one run's appends keep their
/// order (and its line ids stay gap-free); a lane takes whatever has queued while it committed, up to
/// <see cref="LogsOptions.MaxAppendsPerCommit"/>, so an idle host adds no wait and a busy one groups more.
/// With no lanes (the default: on the benchmark machine grouping was slower, docs/benchmarks.md) each write
/// commits alone, in its request.
/// </para>
/// </summary>
public sealed class GroupCommit : IAsyncDisposable
{
    private readonly IDocumentStore _store;
    private readonly RunChanges _changes;
    private readonly ILogger<GroupCommit> _logger;
    private readonly int _maxGroup;
    private readonly int _maxLines;
    private readonly int _copyFromLines;
    private readonly Channel<Write>[] _lanes;
    private readonly Task[] _committing;

    public GroupCommit(IDocumentStore store, RunChanges changes, IOptions<RunsOptions> options, ILogger<GroupCommit> logger)
    {
        _store = store;
        _changes = changes;
        _logger = logger;
        _maxGroup = options.Value.Logs.MaxAppendsPerCommit;
        _maxLines = options.Value.Logs.MaxLinesPerRequest;
        _copyFromLines = options.Value.Logs.CopyFromLines;
        _lanes = [.. Enumerable.Range(0, options.Value.Logs.CommitLanes).Select(_ => Channel.CreateUnbounded<Write>(new() { SingleReader = true }))];
        // Lanes outlive the request that first asked for this service: they must not carry its trace.
        using (ExecutionContext.SuppressFlow())
        {
            _committing = [.. _lanes.Select(lane => Task.Run(() => CommitAsync(lane.Reader)))];
        }
    }

    /// <summary>
    /// Writes to the run the route names what <paramref name="decide"/> decides, as <see cref="RunPipeline"/> does
    /// for a write committed alone; the answer is the refusal or the decision, once committed. <paramref name="lines"/>
    /// is how many log lines the command carries.
    /// </summary>
    public Task<IResult> WriteAsync(HttpContext http, object? command, int lines, Func<Run, RunAnswer> decide)
    {
        var runId = (string)http.Request.RouteValues["run"]!;
        var metadata = EventMetadata.Of(http, http.User);
        var write = new Write(runId, lines, Activity.Current, async (session, copy) =>
        {
            metadata.Stamp(session);
            var (stream, refusal) = await RunWrites.LoadAsync(http, session, command, CancellationToken.None);
            if (refusal is not null)
            {
                return refusal;
            }
            var answer = decide(stream!.Aggregate!);
            await RunWrites.CompleteAsync(http, answer, stream, session, copy);
            await session.SaveChangesAsync();
            return answer;
        });
        if (_lanes.Length == 0)
        {
            return AloneAsync();
        }
        _lanes[(int)((uint)string.GetHashCode(runId, StringComparison.Ordinal) % (uint)_lanes.Length)].Writer.TryWrite(write);
        return write.Answer;

        async Task<IResult> AloneAsync()
        {
            await CommitAloneAsync(write);
            return await write.Answer;
        }
    }

    private async Task CommitAsync(ChannelReader<Write> lane)
    {
        var group = new List<Write>(_maxGroup);
        while (await lane.WaitToReadAsync())
        {
            // A group holds at most as many lines as one request may, so one large append does not hold up
            // the appends queued behind it for longer than it would alone.
            var lines = 0;
            while (group.Count < _maxGroup && lane.TryPeek(out var next) && (group.Count == 0 || lines + next.Lines <= _maxLines))
            {
                lane.TryRead(out _);
                group.Add(next);
                lines += next.Lines;
            }
            // Runs locked in id order on every host, so that two hosts' groups cannot deadlock; a stable
            // sort, so one run's appends keep the order they came in.
            await CommitAsync([.. group.OrderBy(w => w.RunId, StringComparer.Ordinal)]);
            group.Clear();
        }
    }

    private async Task CommitAsync(List<Write> group)
    {
        if (group.Count > 1)
        {
            try
            {
                await CommitTogetherAsync(group);
                return;
            }
            catch (Exception e)
            {
                // Nothing of the group is stored: each write is tried again alone, and answered with its own outcome.
                _logger.LogDebug(e, "A group of {Count} log appends failed; each is written alone.", group.Count);
            }
        }
        foreach (var write in group)
        {
            await CommitAloneAsync(write);
        }
    }

    /// <summary>The write in a transaction of its own; its failure is its answer, never this task's.</summary>
    private async Task CommitAloneAsync(Write write)
    {
        try
        {
            await CommitTogetherAsync([write]);
        }
        catch (Exception e)
        {
            write.Fail(e);
        }
    }

    /// <summary>
    /// The writes in one transaction, answered once it commits; any failure fails them all. With enough lines
    /// among them, the lines are written last, by one COPY.
    /// </summary>
    private async Task CommitTogetherAsync(IReadOnlyList<Write> writes)
    {
        var copy = _copyFromLines > 0 && writes.Sum(w => w.Lines) >= _copyFromLines ? new LogLineStore.Copy() : null;
        List<IResult> answers;
        using (var held = _changes.HoldUntilCommit())
        {
            await using var connection = _store.Storage.Database.CreateConnection();
            try
            {
                answers = await CommitOnAsync(connection, writes, copy);
            }
            catch (Exception e) when (e is not NpgsqlException && connection.FullState == ConnectionState.Broken)
            {
                // Marten retries a failed read on the same connection, which is ours and now broken, and reports
                // the transaction it finds completed instead of the loss; the loss is what the client must hear (503).
                throw new NpgsqlException("The connection to the database was lost during this write; it did not commit.", e);
            }
            held.Release();
        }
        for (var i = 0; i < writes.Count; i++)
        {
            writes[i].Succeed(answers[i]);
        }
    }

    private async Task<List<IResult>> CommitOnAsync(NpgsqlConnection connection, IReadOnlyList<Write> writes, LogLineStore.Copy? copy)
    {
        var answers = new List<IResult>(writes.Count);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        foreach (var write in writes)
        {
            var outer = Activity.Current;
            // The write's database calls are traced under its request.
            Activity.Current = write.Request;
            try
            {
                await using var session = _store.LightweightSession(SessionOptions.ForTransaction(transaction));
                answers.Add(await write.Execute(session, copy));
            }
            finally
            {
                Activity.Current = outer;
            }
        }
        if (copy is not null)
        {
            await copy.WriteAsync(connection, CancellationToken.None);
        }
        await transaction.CommitAsync();
        return answers;
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

    private sealed class Write(string runId, int lines, Activity? request, Func<IDocumentSession, LogLineStore.Copy?, Task<IResult>> execute)
    {
        private readonly TaskCompletionSource<IResult> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string RunId { get; } = runId;
        public int Lines { get; } = lines;
        public Activity? Request { get; } = request;
        public Func<IDocumentSession, LogLineStore.Copy?, Task<IResult>> Execute { get; } = execute;
        public Task<IResult> Answer => _answer.Task;

        public void Succeed(IResult answer) => _answer.TrySetResult(answer);

        public void Fail(Exception e) => _answer.TrySetException(e);
    }
}


namespace Runs.Host.Ledger;

public sealed record CheckpointView(long Id, DateTimeOffset At, long Runs, string Root, string? PreviousRoot, string Signature, string KeyId)
{
    /// <summary>The bytes the signature is over.</summary>
    public byte[] Statement() => CheckpointStatement.Bytes(Id, At, Runs, Root, PreviousRoot, KeyId);
}

/// <summary>
/// Checkpoints as stored: written under a PostgreSQL advisory lock held for the writing transaction, so of
/// several hosts (or a host and the command line) one writes at a time and each checkpoint chains to the
/// one before it.
/// </summary>
public sealed class Checkpoints(NpgsqlDataSource database, CheckpointKeys keys, TimeProvider clock)
{
    /// <summary>The advisory lock that serialises checkpoint writers: "runs" and "ledger" in ASCII.</summary>
    public const long WriterLock = 0x72756e735f6c6467;

    private static string Table(string name) => $"{RunsStore.Schema}.{name}";

    private const string Columns = "id, at, runs, root, previous_root, signature, key_id";

    /// <summary>
    /// Writes a checkpoint of every run's head now — unless <paramref name="unlessYoungerThan"/> is given and the
    /// newest is younger. Refused, with the problems, when the store no longer extends the newest checkpoint
    /// (a run it lists is gone, or its chain was rewritten): the evidence stays the newest checkpoint.
    /// </summary>
    public async Task<(CheckpointView? Written, IReadOnlyList<LedgerProblem> Refusal)> WriteAsync(
        TimeSpan? unlessYoungerThan, CancellationToken cancellation)
    {
        await using var connection = await database.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        await using (var lockCommand = new NpgsqlCommand($"select pg_advisory_xact_lock({WriterLock})", connection, transaction))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellation);
        }
        var now = clock.GetUtcNow();
        now = now.AddTicks(-(now.UtcTicks % TimeSpan.TicksPerMillisecond));
        var latest = await LatestAsync(connection, transaction, cancellation);
        if (latest is not null && unlessYoungerThan is { } interval && latest.At > now - interval)
        {
            return (null, []);
        }

        var refusal = latest is null ? [] : await ProblemsSinceAsync(connection, transaction, latest.Id, cancellation);
        if (refusal.Count > 0)
        {
            return (null, refusal);
        }

        var heads = await CurrentHeadsAsync(connection, transaction, cancellation);
        var id = (latest?.Id ?? 0) + 1;
        await using (var insertHeads = new NpgsqlCommand(
            $"insert into {Table(LedgerTables.CheckpointHeads)} (run_id, checkpoint_id, version, hash) " +
            "select h.run_id, $1, h.version, h.hash from unnest($2::text[], $3::bigint[], $4::text[]) h(run_id, version, hash) " +
            $"where not exists (select 1 from (select hash from {Table(LedgerTables.CheckpointHeads)} p where p.run_id = h.run_id order by p.checkpoint_id desc limit 1) last where last.hash = h.hash)",
            connection, transaction))
        {
            insertHeads.Parameters.Add(new() { Value = id });
            insertHeads.Parameters.Add(new() { Value = heads.Select(h => h.Run).ToArray() });
            insertHeads.Parameters.Add(new() { Value = heads.Select(h => h.Version).ToArray() });
            insertHeads.Parameters.Add(new() { Value = heads.Select(h => h.Hash).ToArray() });
            await insertHeads.ExecuteNonQueryAsync(cancellation);
        }

        var root = CheckpointStatement.Root(latest?.Root, MerkleTree.Root(heads));
        var statement = CheckpointStatement.Bytes(id, now, heads.Count, root, latest?.Root, keys.CurrentId);
        var checkpoint = new CheckpointView(id, now, heads.Count, root, latest?.Root, keys.Sign(statement), keys.CurrentId);
        await using (var insert = new NpgsqlCommand(
            $"insert into {Table(LedgerTables.Checkpoints)} ({Columns}) values ($1, $2, $3, $4, $5, $6, $7)", connection, transaction))
        {
            foreach (var value in new object?[] { checkpoint.Id, checkpoint.At, checkpoint.Runs, checkpoint.Root, checkpoint.PreviousRoot, checkpoint.Signature, checkpoint.KeyId })
            {
                insert.Parameters.Add(new() { Value = value ?? DBNull.Value });
            }
            await insert.ExecuteNonQueryAsync(cancellation);
        }
        await transaction.CommitAsync(cancellation);
        return (checkpoint, []);
    }

    /// <summary>Newest first, before <paramref name="beforeId"/> when given.</summary>
    public async Task<List<CheckpointView>> ListAsync(long? beforeId, int count, CancellationToken cancellation)
    {
        await using var command = database.CreateCommand(
            $"select {Columns} from {Table(LedgerTables.Checkpoints)} where id < $1 order by id desc limit $2");
        command.Parameters.Add(new() { Value = beforeId ?? long.MaxValue });
        command.Parameters.Add(new() { Value = count });
        return await ReadAsync(command, cancellation);
    }

    public async Task<CheckpointView?> FindAsync(long id, CancellationToken cancellation)
    {
        await using var command = database.CreateCommand($"select {Columns} from {Table(LedgerTables.Checkpoints)} where id = $1");
        command.Parameters.Add(new() { Value = id });
        return (await ReadAsync(command, cancellation)).SingleOrDefault();
    }

    /// <summary>The heads checkpoint <paramref name="id"/> committed to, in ordinal order of run id.</summary>
    public async Task<List<RunHead>> HeadsAsync(long id, CancellationToken cancellation)
    {
        await using var command = database.CreateCommand(
            $"select distinct on (run_id) run_id, version, hash from {Table(LedgerTables.CheckpointHeads)} " +
            "where checkpoint_id <= $1 order by run_id, checkpoint_id desc");
        command.Parameters.Add(new() { Value = id });
        return await ReadHeadsAsync(command, cancellation);
    }

    /// <summary>Each checkpoint's <c>previous_root</c> against the root of the one before it.</summary>
    public async Task<List<LedgerProblem>> ChainProblemsAsync(CancellationToken cancellation)
    {
        await using var command = database.CreateCommand(
            $"select id, previous_root, lag(root) over (order by id), lag(id) over (order by id) from {Table(LedgerTables.Checkpoints)} order by id");
        var problems = new List<LedgerProblem>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            var id = reader.GetInt64(0);
            var previous = reader.IsDBNull(1) ? null : reader.GetString(1);
            var before = reader.IsDBNull(2) ? null : reader.GetString(2);
            var beforeId = reader.IsDBNull(3) ? 0 : reader.GetInt64(3);
            if (previous != before || beforeId != id - 1)
            {
                problems.Add(new LedgerProblem(ProblemKinds.CheckpointChanged, null, null, null, null,
                    $"Checkpoint {id} does not chain to checkpoint {id - 1}: a checkpoint was removed or edited."));
            }
        }
        return problems;
    }

    private static async Task<CheckpointView?> LatestAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand($"select {Columns} from {Table(LedgerTables.Checkpoints)} order by id desc limit 1", connection, transaction);
        return (await ReadAsync(command, cancellation)).SingleOrDefault();
    }

    /// <summary>Runs of checkpoint <paramref name="id"/> whose link at the checkpointed version is gone or different.</summary>
    private static async Task<List<LedgerProblem>> ProblemsSinceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long id, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(
            $"with listed as (select distinct on (run_id) run_id, version, hash from {Table(LedgerTables.CheckpointHeads)} where checkpoint_id <= $1 order by run_id, checkpoint_id desc) " +
            $"select p.run_id, p.version, l.hash is null, exists (select 1 from {Table("mt_streams")} s where s.id = p.run_id) from listed p " +
            $"left join {Table(LedgerTables.Links)} l on l.run_id = p.run_id and l.version = p.version where l.hash is distinct from p.hash order by p.run_id",
            connection, transaction);
        command.Parameters.Add(new() { Value = id });
        var problems = new List<LedgerProblem>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            var (run, version, gone, exists) = (reader.GetString(0), reader.GetInt64(1), reader.GetBoolean(2), reader.GetBoolean(3));
            problems.Add(!exists
                ? new LedgerProblem(ProblemKinds.RunMissing, run, version, null, null, $"Checkpoint {id} lists run '{run}', which is no longer stored.")
                : new LedgerProblem(ProblemKinds.HeadChanged, run, version, null, null, gone
                    ? $"The run's link at version {version}, which checkpoint {id} recorded, is gone."
                    : $"The run's link at version {version} is not the head checkpoint {id} recorded."));
        }
        return problems;
    }

    /// <summary>Heads as (run_id, version, hash) rows, in ordinal order of run id.</summary>
    private static async Task<List<RunHead>> ReadHeadsAsync(NpgsqlCommand command, CancellationToken cancellation)
    {
        var heads = new List<RunHead>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            heads.Add(new RunHead(reader.GetString(0), reader.GetInt64(1), reader.GetString(2)));
        }
        heads.Sort((a, b) => string.CompareOrdinal(a.Run, b.Run));
        return heads;
    }

    private static async Task<List<RunHead>> CurrentHeadsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(
            $"select distinct on (run_id) run_id, version, hash from {Table(LedgerTables.Links)} order by run_id, version desc", connection, transaction);
        return await ReadHeadsAsync(command, cancellation);
    }

    private static async Task<List<CheckpointView>> ReadAsync(NpgsqlCommand command, CancellationToken cancellation)
    {
        var checkpoints = new List<CheckpointView>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            checkpoints.Add(new CheckpointView(
                reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetInt64(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetString(5), reader.GetString(6)));
        }
        return checkpoints;
    }
}

/// <summary>
/// Writes a checkpoint every <c>Runs:Ledger:CheckpointInterval</c>. Every host looks every tenth of the interval
/// (at least every five minutes) and writes only when the newest checkpoint is a whole interval old, under the
/// writers' advisory lock — so across any number of hosts one checkpoint is written per interval.
/// </summary>
public sealed class CheckpointSchedule(Checkpoints checkpoints, Microsoft.Extensions.Options.IOptions<RunsOptions> options, TimeProvider clock, ILogger<CheckpointSchedule> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.Ledger.CheckpointInterval;
        // A little under the interval, so a look that comes a moment early still writes.
        var due = interval - interval / 20;
        using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Min(interval.Ticks / 10, TimeSpan.FromMinutes(5).Ticks)), clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var (written, refusal) = await checkpoints.WriteAsync(due, stoppingToken);
                if (written is not null)
                {
                    logger.LogInformation("Ledger checkpoint {Id} written over {Runs} runs, root {Root}.", written.Id, written.Runs, written.Root);
                }
                foreach (var problem in refusal)
                {
                    logger.LogError("No checkpoint written: {Kind} {Run}: {Detail}", problem.Kind, problem.Run, problem.Detail);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Writing a ledger checkpoint failed; the next look tries again.");
            }
        }
    }
}

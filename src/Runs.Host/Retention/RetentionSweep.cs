
namespace Runs.Host.Retention;

/// <summary>A finished run whose logs, input and output are due to be purged.</summary>
public sealed record DueRun(string Id, string Job, string Status, DateTimeOffset ExpiresOn, string Policy);

/// <summary>
/// Purges expired runs, one transaction per run: log lines, file rows and their bytes are deleted, the
/// log text the events (a batch's error lines) and older webhook deliveries (a copy of the body) carried
/// is removed from them, and <see cref="RetentionExpired"/> is appended. Each run is taken under its
/// stream's row lock and skipped if already expired, so sweeps on several hosts at once, a second sweep,
/// or one resumed after a crash change nothing twice.
/// </summary>
public sealed class RetentionSweep(IDocumentStore store, NpgsqlDataSource database, RetentionPolicy policy, TimeProvider clock)
{
    public const string Actor = "retention-sweep";
    public static readonly TimeSpan OrphanGrace = TimeSpan.FromHours(1);

    public async Task<List<DueRun>> DueAsync(DateTimeOffset now, CancellationToken cancellation)
    {
        await using var command = database.CreateCommand(
            $"select d.id, d.job, d.status, d.completed__on from {RunsStore.Schema}.mt_doc_run d " +
            "where d.completed__on is not null and d.data ->> 'expired_on' is null order by d.completed__on");
        var due = new List<DueRun>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            if (!RunStatusNames.TryParse(reader.GetString(2), out var status) || !status.IsTerminal())
            {
                continue;
            }
            var job = reader.GetString(1);
            var (period, rule) = policy.For(job, status);
            var expiresOn = reader.GetFieldValue<DateTimeOffset>(3) + period;
            if (expiresOn <= now)
            {
                due.Add(new DueRun(reader.GetString(0), job, status.Name(), expiresOn, rule));
            }
        }
        return due;
    }

    /// <summary>Purges what is due (at most <paramref name="maxRuns"/>); answers the runs purged by this call.</summary>
    public async Task<List<DueRun>> SweepAsync(int maxRuns = int.MaxValue, CancellationToken cancellation = default)
    {
        var now = clock.GetUtcNow();
        var purged = new List<DueRun>();
        foreach (var run in (await DueAsync(now, cancellation)).Take(maxRuns))
        {
            if (await PurgeAsync(run, now, cancellation))
            {
                purged.Add(run);
            }
        }
        await RemoveOrphanedBytesAsync(now, cancellation);
        return purged;
    }

    private async Task<bool> PurgeAsync(DueRun due, DateTimeOffset now, CancellationToken cancellation)
    {
        // The events keep type, time, metadata, line ranges and digests; only the log text they carried goes,
        // by Marten's masking rule for LogAppended (RunsStore). Before the transaction below, so a purge that
        // fails there is masked again, harmlessly, on the next sweep.
        await store.Advanced.ApplyEventDataMasking(masking => masking.IncludeStream(due.Id), cancellation);
        await using var session = store.LightweightSession();
        session.LastModifiedBy = Actor;
        session.CausationId = "retention:" + due.Policy;
        var stream = await session.Events.FetchForExclusiveWriting<Run>(due.Id, cancellation);
        if (stream.Aggregate is not { ExpiredOn: null } run)
        {
            return false;
        }

        var schema = RunsStore.Schema;
        session.QueueSqlCommand($"delete from {schema}.{LogLineStore.TableName} where run_id = ?", due.Id);
        session.QueueSqlCommand(
            $"delete from {schema}.{RunFileStore.ChunksTable} where blob_id in (select blob_id from {schema}.{RunFileStore.FilesTable} where run_id = ?)", due.Id);
        session.QueueSqlCommand($"delete from {schema}.{RunFileStore.FilesTable} where run_id = ?", due.Id);
        // Webhook deliveries build their bodies from the run at each attempt; ones stored before that
        // carried a copy of the body, error lines included, which goes now.
        session.QueueSqlCommand(
            $"update {schema}.mt_doc_webhookdelivery set data = data - 'payload' where data ->> 'run' = ? and data -> 'payload' is not null", due.Id);
        stream.AppendOne(new RetentionExpired(due.Id, due.Policy, due.ExpiresOn, now > run.LastModified ? now : run.LastModified));
        await session.SaveChangesAsync(cancellation);
        return true;
    }

    /// <summary>
    /// Bytes no file row points to: failed or abandoned uploads, replaced outputs. A blob goes whole, once
    /// none of its chunks is recent: an upload still in progress keeps writing (or refreshing) its chunks.
    /// </summary>
    private async Task RemoveOrphanedBytesAsync(DateTimeOffset now, CancellationToken cancellation)
    {
        await using var command = database.CreateCommand(
            $"delete from {RunsStore.Schema}.{RunFileStore.ChunksTable} c " +
            $"where not exists (select 1 from {RunsStore.Schema}.{RunFileStore.FilesTable} f where f.blob_id = c.blob_id) " +
            $"and not exists (select 1 from {RunsStore.Schema}.{RunFileStore.ChunksTable} recent where recent.blob_id = c.blob_id and recent.created_on >= $1)");
        command.Parameters.Add(new() { Value = now - OrphanGrace });
        await command.ExecuteNonQueryAsync(cancellation);
    }
}

/// <summary>Sweeps every <c>Runs:Retention:SweepInterval</c> on every host; the sweep itself is safe to overlap.</summary>
public sealed class RetentionSweeper(IServiceProvider services, Microsoft.Extensions.Options.IOptions<RunsOptions> options, TimeProvider clock, ILogger<RetentionSweeper> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Retention.SweepInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var purged = await services.GetRequiredService<RetentionSweep>().SweepAsync(cancellation: stoppingToken);
                if (purged.Count > 0)
                {
                    logger.LogInformation("Retention sweep purged {Count} runs.", purged.Count);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "The retention sweep failed; the next one resumes where it stopped.");
            }
        }
    }
}

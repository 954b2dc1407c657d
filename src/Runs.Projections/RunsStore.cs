using JasperFx;
using JasperFx.Events;
using Marten.Events;
using Marten.Services.Json;
using Weasel.Core;
using JasperFx.Events.Projections;
using Runs.Projections.Ledger;

namespace Runs.Projections;

/// <summary>Everything Marten needs to know about runs: serialization, streams, metadata, projections.</summary>
public static class RunsStore
{
    /// <summary>The PostgreSQL schema holding Marten's, Wolverine's and our own tables.</summary>
    public const string Schema = "runs";

    /// <summary>Every event a run's stream can hold.</summary>
    public static readonly Type[] EventTypes =
    [
        typeof(Triggered), typeof(Started), typeof(LogAppended), typeof(TelemetrySampled),
        typeof(ResultReported), typeof(Paused), typeof(Resumed), typeof(Succeeded), typeof(Failed),
        typeof(Canceled), typeof(Rejected), typeof(OutputAttached), typeof(RetentionExpired),
    ];

    public static void Configure(StoreOptions options, string connectionString, int maxTelemetrySamplesPerRun = 2000, TimeProvider? clock = null)
    {
        options.Connection(ConnectionSettings.For(connectionString).ConnectionString);
        options.DatabaseSchemaName = Schema;
        options.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.SnakeCase);

        options.Events.StreamIdentity = StreamIdentity.AsString;
        // Quick appends: one round trip per stream. The run counts its own version (see Run.Fold). Timestamps
        // are given by this process, to the millisecond, so the ledger chains exactly what is stored (Ledger/).
        options.Events.AppendMode = EventAppendMode.QuickWithServerTimestamps;
        options.Events.TimeProvider = new MillisecondClock(clock ?? TimeProvider.System);
        // What retention purges from the events themselves: the log text a LogAppended carried.
        options.Events.AddMaskingRuleForProtectedInformation<LogAppended>(e => e with { ErrorLines = [] });
        options.Events.MetadataConfig.CorrelationIdEnabled = true;
        options.Events.MetadataConfig.CausationIdEnabled = true;
        options.Events.MetadataConfig.UserNameEnabled = true;
        options.Events.MetadataConfig.HeadersEnabled = true;

        options.Events.AddEventTypes(EventTypes);

        options.Projections.Add<RunProjection>(ProjectionLifecycle.Inline);
        options.Projections.Add(new TelemetryProjection(maxTelemetrySamplesPerRun), ProjectionLifecycle.Inline);
        // The extension before the table whose index needs it.
        options.Storage.ExtendedSchemaObjects.Add(LogLineStore.Trigrams());
        options.Storage.ExtendedSchemaObjects.Add(LogLineStore.Table(options.DatabaseSchemaName));
        options.Storage.ExtendedSchemaObjects.Add(RunFileStore.Files(options.DatabaseSchemaName));
        options.Storage.ExtendedSchemaObjects.Add(RunFileStore.Chunks(options.DatabaseSchemaName));
        options.Storage.ExtendedSchemaObjects.AddRange(LedgerTables.All(options.DatabaseSchemaName));
        options.Listeners.Add(new LedgerChain());
        // Listings, filters and stats read real columns, kept in step with the document by Marten (and
        // so rebuilt with it). Each duplicated field also gets an index, which every write pays for, so
        // only the fields that order, partition or aggregate are columns; other filters read the JSON.
        options.Schema.For<Run>()
            .Duplicate(x => x.Job)
            .Duplicate(x => x.CreatedOn, "timestamptz")
            .Duplicate(x => x.CompletedOn!, "timestamptz")
            .Duplicate(x => x.Duration!, "double precision")
            // Keyset paging walks (created_on, id) backwards, per job and across jobs.
            .Index([x => x.Job, x => x.CreatedOn, x => x.Id], index => index.Name = "mt_doc_run_idx_job_created")
            .Index([x => x.CreatedOn, x => x.Id], index => index.Name = "mt_doc_run_idx_created");
        // The status column holds the name the document holds ("succeeded"), which a column duplicated from
        // the enum itself would not (Marten writes its C# name there): it mirrors Run.StatusName instead.
        options.Policies.ForAllDocuments(mapping =>
        {
            if (mapping.DocumentType == typeof(Run))
            {
                var status = mapping.DuplicateField([typeof(Run).GetProperty(nameof(Run.StatusName))!], "varchar", columnName: "status");
                mapping.AddIndex(status.ColumnName);
            }
        });
    }
}

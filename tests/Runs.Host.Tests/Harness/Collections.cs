
namespace Runs.Host.Tests.Harness;

// Each collection has its own host and database; collections run in parallel.

/// <summary>
/// The trait of the test classes that measure the whole process (its allocations, its memory, its pooled
/// connections): ./test.sh runs them in a test process of their own (<c>--filter Process=own</c>) beside the
/// other collections, and there their collections still run alone.
/// </summary>
public static class OwnProcess
{
    public const string Trait = "Process";
    public const string Value = "own";
}

/// <summary>
/// The host as configured by default, but for log appends committed in groups and large ones copied in: most tests
/// need nothing else, and share it. (The other hosts commit each append alone and insert its lines, as the default is.)
/// </summary>
public sealed class DefaultHost : RunsHost
{
    public const int CommitLanes = 2;
    public const int CopyFromLines = 1000;

    protected override string DatabaseSuffix => "default";

    protected override void Configure(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        builder.UseSetting("Runs:Logs:CommitLanes", $"{CommitLanes}");
        builder.UseSetting("Runs:Logs:CopyFromLines", $"{CopyFromLines}");
    }
}

[CollectionDefinition(Name)]
public sealed class DefaultCollection : ICollectionFixture<DefaultHost>
{
    public const string Name = "default";
}

/// <summary>A host with tiny abuse limits, so limits can be hit without flooding.</summary>
public sealed class LimitsHost : RunsHost
{
    protected override string DatabaseSuffix => "limits";

    protected override void Configure(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        builder.UseSetting("Runs:Limits:RequestsPerSecond", "1");
        builder.UseSetting("Runs:Limits:Burst", "3");
        builder.UseSetting("Runs:Limits:MaxQueryStringLength", "300");
        builder.UseSetting("Runs:Limits:MaxRequestHeaderBytes", "4096");
        builder.UseSetting("Runs:Limits:MaxTriggerBodyBytes", "4096");
        // As in production: no deliveries to loopback or private addresses.
        builder.UseSetting("Runs:Webhooks:AllowPrivateNetworks", "false");
    }
}

[CollectionDefinition(Name)]
public sealed class LimitsCollection : ICollectionFixture<LimitsHost>
{
    public const string Name = "limits";
}

/// <summary>
/// A host with small log and telemetry caps and a fast ping, so caps and pings are quick to reach, and log
/// reads of three lines a page, so every read and stream of more than a few lines spans pages.
/// </summary>
public sealed class LogsHost : RunsHost
{
    protected override string DatabaseSuffix => "logs";

    protected override void Configure(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder) => Settings(builder);

    public static void Settings(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        builder.UseSetting("Runs:Logs:MaxLinesPerRun", "10");
        builder.UseSetting("Runs:Logs:MaxLinesPerRequest", "50");
        builder.UseSetting("Runs:Logs:MaxLineLength", "100");
        builder.UseSetting("Runs:Limits:MaxLogBodyBytes", "65536");
        builder.UseSetting("Runs:Telemetry:MaxSamplesPerRun", "20");
        builder.UseSetting("Runs:Sse:PingInterval", "00:00:00.300");
        builder.UseSetting("Runs:Logs:ReadPageLines", "3");
    }
}

[CollectionDefinition(Name)]
public sealed class LogsCollection : ICollectionFixture<LogsHost>
{
    public const string Name = "logs";
}

/// <summary>
/// A host whose webhook retries come quickly, so a whole retry schedule fits in a test; with a few
/// delivery slots, few endpoints per token, and runs of job short-lived that expire a second after they end.
/// </summary>
public sealed class WebhooksHost : RunsHost
{
    public const string RetrySchedule = "00:00:00.300,00:00:00.300";
    public const int MaxConcurrentDeliveries = 10;
    public const int MaxConcurrentDeliveriesPerToken = 4;
    public const int MaxEndpointsPerToken = 5;
    public const string ShortLivedJob = "short-lived";

    protected override string DatabaseSuffix => "webhooks";

    protected override void Configure(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        builder.UseSetting("Runs:Webhooks:RetrySchedule", RetrySchedule);
        builder.UseSetting("Runs:Webhooks:Timeout", "00:00:05");
        builder.UseSetting("Runs:Webhooks:MaxConcurrentDeliveries", $"{MaxConcurrentDeliveries}");
        builder.UseSetting("Runs:Webhooks:MaxConcurrentDeliveriesPerToken", $"{MaxConcurrentDeliveriesPerToken}");
        builder.UseSetting("Runs:Webhooks:MaxEndpointsPerToken", $"{MaxEndpointsPerToken}");
        builder.UseSetting($"Runs:Retention:ByJob:{ShortLivedJob}", "00:00:01");
    }
}

[CollectionDefinition(Name)]
public sealed class WebhooksCollection : ICollectionFixture<WebhooksHost>
{
    public const string Name = "webhooks";
}

/// <summary>A host whose runs expire a second after they end (failed ones after a day; job keep-long after ten).</summary>
public sealed class RetentionHost : RunsHost
{
    protected override string DatabaseSuffix => "retention";

    protected override void Configure(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        builder.UseSetting("Runs:Retention:Default", "00:00:01");
        builder.UseSetting("Runs:Retention:ByOutcome:failed", "1.00:00:00");
        builder.UseSetting("Runs:Retention:ByJob:keep-long", "10.00:00:00");
        builder.UseSetting("Runs:Retention:SweepInterval", "01:00:00");
        builder.UseSetting("Runs:Outputs:MaxBytesPerFile", "102400");
        builder.UseSetting("Runs:Outputs:MaxBytesPerRun", "153600");
    }
}

[CollectionDefinition(Name)]
public sealed class RetentionCollection : ICollectionFixture<RetentionHost>
{
    public const string Name = "retention";
}

/// <summary>A host whose tests run alone, after every other collection: they measure the process's allocations around requests.</summary>
public sealed class MemoryHost : RunsHost
{
    protected override string DatabaseSuffix => "memory";
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryCollection : ICollectionFixture<MemoryHost>
{
    public const string Name = "memory";
}

/// <summary>
/// A host with small caps on live streams and event pages, and a clock the tests move: a stream's pings,
/// token checks and lifetime all wait on it, so each happens exactly when a test says.
/// </summary>
public sealed class BoundsHost : RunsHost
{
    public const int MaxStreamsPerToken = 2;
    public const int MaxStreams = 3;
    public const int MaxEventPageBytes = 4096;
    public static readonly TimeSpan TokenCheckInterval = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(10);

    public Microsoft.Extensions.Time.Testing.FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    protected override string DatabaseSuffix => "bounds";

    protected override void Configure(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        builder.UseSetting("Runs:Sse:MaxStreamsPerToken", MaxStreamsPerToken.ToString());
        builder.UseSetting("Runs:Sse:MaxStreams", MaxStreams.ToString());
        builder.UseSetting("Runs:Sse:TokenCheckInterval", TokenCheckInterval.ToString());
        builder.UseSetting("Runs:Sse:MaxLifetime", MaxLifetime.ToString());
        builder.UseSetting("Runs:Events:MaxPageBytes", MaxEventPageBytes.ToString());
        builder.ConfigureServices(services => services.AddSingleton<TimeProvider>(Clock));
    }
}

[CollectionDefinition(Name)]
public sealed class BoundsCollection : ICollectionFixture<BoundsHost>
{
    public const string Name = "bounds";
}

/// <summary>
/// The host on a real socket with small connection pools and a request time-out far shorter than the default,
/// so a test that waits one out is quick (the socket host's warm-up calls each endpoint once, so a Debug build's
/// code generation is done before any test runs). Its collection runs alone, after the others: its tests count
/// pooled connections and measure the process's memory.
/// </summary>
public sealed class TransfersHost : SocketHost
{
    public const int PoolSize = 4;
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(3);

    protected override string DatabaseSuffix => "transfers";

    protected override string Pool(string connectionString) =>
        new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = PoolSize }.ConnectionString;

    protected override void Configure(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        builder.UseSetting("Runs:Database:TokenPoolSize", "2");
        builder.UseSetting("Runs:Limits:RequestTimeout", RequestTimeout.ToString());
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TransfersCollection : ICollectionFixture<TransfersHost>
{
    public const string Name = "transfers";
}

/// <summary>A host exporting traces over OTLP (HTTP/protobuf) to a receiver in the test, flushed every 100 ms.</summary>
public sealed class TracingHost : RunsHost
{
    public OtlpReceiver Collector { get; } = OtlpReceiver.Start();

    protected override string DatabaseSuffix => "tracing";

    protected override void Configure(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        builder.UseSetting("OTEL_EXPORTER_OTLP_ENDPOINT", Collector.Url);
        builder.UseSetting("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
        builder.UseSetting("OTEL_BSP_SCHEDULE_DELAY", "100");
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Collector.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class TracingCollection : ICollectionFixture<TracingHost>
{
    public const string Name = "tracing";
}

/// <summary>
/// A host for the ledger's tests: runs expire a second after they end (swept only when a test sweeps), and
/// a second, empty database beside the host's to import into.
/// </summary>
public sealed class LedgerHost : RunsHost
{
    protected override string DatabaseSuffix => "ledger";

    public string ImportConnectionString { get; private set; } = "";

    protected override void Configure(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        builder.UseSetting("Runs:Retention:Default", "00:00:01");
        builder.UseSetting("Runs:Retention:SweepInterval", "01:00:00");
    }

    /// <summary>Drops and makes the import database again; connections pooled to the old one go with it.</summary>
    public async Task<string> FreshImportDatabaseAsync()
    {
        if (ImportConnectionString.Length > 0)
        {
            Npgsql.NpgsqlConnection.ClearPool(new Npgsql.NpgsqlConnection(ImportConnectionString));
        }
        return ImportConnectionString = await TestDatabase.EnsureAsync("ledger_import");
    }
}

[CollectionDefinition(Name)]
public sealed class LedgerCollection : ICollectionFixture<LedgerHost>
{
    public const string Name = "ledger";
}

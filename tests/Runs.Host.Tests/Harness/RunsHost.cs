
namespace Runs.Host.Tests.Harness;

/// <summary>
/// One real host per test collection, on a real PostgreSQL: each collection gets a database of its
/// own (created on first use) so collections run in parallel without touching each other's data.
/// </summary>
public abstract class RunsHost : IAsyncLifetime
{
    protected abstract string DatabaseSuffix { get; }

    public IAlbaHost Host { get; private set; } = null!;

    public IDocumentStore Store => Host.Services.GetRequiredService<IDocumentStore>();

    public string ConnectionString { get; private set; } = "";

    public const string SigningKeyId = "test-key";

    /// <summary>The host's checkpoint signing key.</summary>
    public ECDsa SigningKey { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public async Task InitializeAsync()
    {
        ConnectionString = await TestDatabase.EnsureAsync(DatabaseSuffix);
        Host = await AlbaHost.For<Program>(builder =>
        {
            builder.UseEnvironment("Development");
            builder.UseSetting("ConnectionStrings:Runs", ConnectionString);
            builder.UseSetting("Runs:Secrets:CurrentKeyId", "test");
            builder.UseSetting("Runs:Secrets:Keys:test", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            builder.UseSetting("Runs:Ledger:CurrentSigningKeyId", SigningKeyId);
            builder.UseSetting($"Runs:Ledger:SigningKeys:{SigningKeyId}", SigningKey.ExportPkcs8PrivateKeyPem());
            // Checkpoints only when a test asks for one.
            builder.UseSetting("Runs:Ledger:CheckpointInterval", "30.00:00:00");
            // Before Configure: a collection that needs a clock of its own registers it there.
            builder.ConfigureServices(services => services.AddSingleton<TimeProvider>(new ShiftedClock()));
            Configure(builder);
            builder.ConfigureServices(services => services.RunWolverineInSoloMode());
        });
    }

    protected virtual void Configure(IWebHostBuilder builder)
    {
    }

    public virtual async Task DisposeAsync() => await Host.DisposeAsync();

    /// <summary>Stores a token with the given scopes and job grants and returns its secret.</summary>
    public async Task<string> TokenAsync(string name = "tester", string[]? scopes = null, string[]? jobs = null) =>
        (await TestTokens.IssueAsync(Store, name, scopes, jobs)).Secret;

    /// <summary>Marten's documents and events, and the tables of our own that Marten does not know to clear.</summary>
    public async Task ResetAsync()
    {
        await Host.ResetAllMartenDataAsync();
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var truncate = new NpgsqlCommand("truncate runs.log_lines, runs.run_files, runs.run_file_chunks, runs.ledger_events, runs.ledger_checkpoints, runs.ledger_checkpoint_heads", connection);
        await truncate.ExecuteNonQueryAsync();
    }
}

public static class TestTokens
{
    /// <summary>Stores a token and returns its record (for its id) and its secret.</summary>
    public static async Task<(ApiToken Token, string Secret)> IssueAsync(
        IDocumentStore store, string name = "tester", string[]? scopes = null, string[]? jobs = null, DateTimeOffset? expiresOn = null)
    {
        var (token, secret) = ApiToken.Issue(name, scopes ?? Scopes.All, jobs ?? ["*"], DateTimeOffset.UtcNow, expiresOn);
        await using var session = store.LightweightSession();
        session.Store(token);
        await session.SaveChangesAsync();
        return (token, secret);
    }
}

public static class TestDatabase
{
    /// <summary>
    /// The connection string of a fresh test database beside the one <c>ConnectionStrings__Runs</c> names
    /// (./test.sh sets it to the project's local cluster): dropped and created again, so every test run
    /// starts from the schema the code describes, whatever an earlier run left behind.
    /// </summary>
    public static async Task<string> EnsureAsync(string suffix)
    {
        var baseline = Environment.GetEnvironmentVariable("ConnectionStrings__Runs")
            ?? "Host=127.0.0.1;Port=55432;Database=runs_tests;Username=runs;Password=runs";
        var builder = new NpgsqlConnectionStringBuilder(baseline);
        var database = $"{builder.Database}_{suffix}";

        await using (var connection = new NpgsqlConnection(baseline))
        {
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"drop database if exists \"{database}\" with (force)", connection);
            await drop.ExecuteNonQueryAsync();
            await using var create = new NpgsqlCommand($"create database \"{database}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        builder.Database = database;
        return builder.ConnectionString;
    }
}


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
        ConnectionString = await DatabaseAsync();
        Host = await HostCommand.BetweenCommandsAsync(() => AlbaHost.For<Program>(builder =>
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
        }));
    }

    protected virtual void Configure(IWebHostBuilder builder)
    {
    }

    /// <summary>The host's database: a fresh one, unless a host needs it prepared first.</summary>
    protected virtual Task<string> DatabaseAsync() => TestDatabase.EnsureAsync(DatabaseSuffix);

    public virtual async Task DisposeAsync() => await Host.DisposeAsync();

    /// <summary>Stores a token with the given scopes and job grants and returns its secret.</summary>
    public async Task<string> TokenAsync(string name = "tester", string[]? scopes = null, string[]? jobs = null) =>
        (await TestTokens.IssueAsync(Store, name, scopes, jobs)).Secret;

    /// <summary>An HTTP client of the host that sends the given token.</summary>
    public HttpClient ClientFor(string token)
    {
        var client = Host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>
    /// Runs SQL straight against the host's database, as someone behind the service's back would (arguments are
    /// $1, $2, …); gives the first column of the first row.
    /// </summary>
    public async Task<object?> SqlAsync(string sql, params object[] args)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var arg in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = arg });
        }
        return await command.ExecuteScalarAsync();
    }

    /// <summary>Marten's documents and events, and the tables of our own that Marten does not know to clear.</summary>
    public Task ResetAsync() => TestData.EmptyAsync(ConnectionString);
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

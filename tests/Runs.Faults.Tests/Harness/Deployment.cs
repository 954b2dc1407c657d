using System.Diagnostics;
using System.Security.Cryptography;
using Marten;
using Npgsql;
using Runs.Host.Auth;
using Runs.Host.Tokens;
using Runs.Projections;

namespace Runs.Faults.Tests.Harness;

/// <summary>
/// What hosts of one deployment share: a fresh database on the PostgreSQL ./test.sh provides, the secret
/// key, an admin token, and the settings every host starts with.
/// </summary>
public sealed class Deployment
{
    public string ConnectionString { get; }
    public string Token { get; private set; } = "";
    public Dictionary<string, string> Settings { get; }

    private Deployment(string connectionString)
    {
        ConnectionString = connectionString;
        Settings = new()
        {
            ["ConnectionStrings__Runs"] = connectionString,
            ["Runs__Secrets__CurrentKeyId"] = "faults",
            ["Runs__Secrets__Keys__faults"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            // Production refuses to start without a checkpoint signing key.
            ["Runs__Ledger__CurrentSigningKeyId"] = "faults",
            ["Runs__Ledger__SigningKeys__faults"] = ECDsa.Create(ECCurve.NamedCurves.nistP256).ExportPkcs8PrivateKeyPem(),
            // The receiver is on loopback.
            ["Runs__Webhooks__AllowPrivateNetworks"] = "true",
            // Quick retries, so a delivery an outage made fail is retried within the test.
            ["Runs__Webhooks__RetrySchedule"] = "00:00:01,00:00:02,00:00:05,00:00:10",
            // The load comes from one client address with one token.
            ["Runs__Limits__RequestsPerSecond"] = "100000",
            ["Runs__Limits__Burst"] = "100000",
        };
    }

    /// <summary>A database of its own (dropped and created again) beside the one <c>ConnectionStrings__Runs</c> names.</summary>
    public static async Task<Deployment> CreateAsync(string suffix)
    {
        _ = Environment.GetEnvironmentVariable("ConnectionStrings__Runs")
            ?? throw new InvalidOperationException("ConnectionStrings__Runs is not set: run the fault suite through ./test.sh, which provides PostgreSQL.");
        var connectionString = await Runs.Tests.TestDatabase.EnsureAsync($"faults_{suffix}");
        // A restart of PostgreSQL breaks every pooled connection; the hosts must find their way back on their own.
        return new Deployment(connectionString);
    }

    /// <summary>Stores an admin token (the schema exists once a host has started).</summary>
    public async Task IssueTokenAsync()
    {
        var (token, secret) = ApiToken.Issue("load", Scopes.All, ["*"], DateTimeOffset.UtcNow);
        await using var store = DocumentStore.For(options =>
        {
            RunsStore.Configure(options, ConnectionString);
            options.Schema.For<ApiToken>().UniqueIndex(t => t.Hash);
            options.AutoCreateSchemaObjects = JasperFx.AutoCreate.None;
        });
        await using var session = store.LightweightSession();
        session.Store(token);
        await session.SaveChangesAsync();
        Token = secret;
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new() { Value = parameter });
        }
        return (T)(await command.ExecuteScalarAsync())!;
    }
}

/// <summary>The throw-away cluster ./test.sh made (<c>RUNS_PG_CLUSTER</c>), stopped and started the way an operator would.</summary>
public static class Postgres
{
    public static string Cluster =>
        Environment.GetEnvironmentVariable("RUNS_PG_CLUSTER") is { Length: > 0 } name
            ? name
            : throw new InvalidOperationException(
                "RUNS_PG_CLUSTER is not set: the PostgreSQL restart needs the throw-away cluster ./test.sh creates. " +
                "Run the fault suite through ./test.sh (without ConnectionStrings__Runs set).");

    /// <summary><c>pg_ctlcluster &lt;version&gt; &lt;cluster&gt; stop -m fast</c>: every connection is dropped.</summary>
    public static Task StopAsync() => ControlAsync("stop", "-m", "fast");

    /// <summary><c>pg_ctlcluster &lt;version&gt; &lt;cluster&gt; start</c>, answering once it takes connections.</summary>
    public static Task StartAsync() => ControlAsync("start");

    private static async Task ControlAsync(params string[] arguments)
    {
        var cluster = Cluster;
        var version = Directory.GetDirectories("/etc/postgresql")
            .Select(Path.GetFileName)
            .First(v => Directory.Exists($"/etc/postgresql/{v}/{cluster}"));
        using var process = Process.Start(new ProcessStartInfo("pg_ctlcluster", [version!, cluster, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"pg_ctlcluster {version} {cluster} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await error}");
        }
    }
}

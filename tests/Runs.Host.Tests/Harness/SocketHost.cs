using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Marten;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Wolverine;

namespace Runs.Host.Tests.Harness;

/// <summary>
/// The host on Kestrel and a real loopback socket, for what an in-memory server cannot show: a client that
/// stops reading really stops the server's writes, a slow upload really arrives slowly, and Kestrel's own
/// limits apply. One per test collection, with a database of its own, like <see cref="RunsHost"/>.
/// </summary>
public abstract class SocketHost : IAsyncLifetime
{
    private WebApplicationFactory<Program> _factory = null!;

    protected abstract string DatabaseSuffix { get; }

    public string ConnectionString { get; private set; } = "";

    public IServiceProvider Services => _factory.Services;

    public IDocumentStore Store => Services.GetRequiredService<IDocumentStore>();

    public Uri BaseAddress { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        ConnectionString = Pool(await TestDatabase.EnsureAsync(DatabaseSuffix));
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Development");
            builder.UseSetting("ConnectionStrings:Runs", ConnectionString);
            builder.UseSetting("Runs:Secrets:CurrentKeyId", "test");
            builder.UseSetting("Runs:Secrets:Keys:test", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            Configure(builder);
            builder.ConfigureServices(services => services.RunWolverineInSoloMode());
        });
        _factory.UseKestrel(0);
        _factory.StartServer();
        using var probe = _factory.CreateClient();
        BaseAddress = probe.BaseAddress!;
    }

    /// <summary>The connection string the host is given: a place to size its pools.</summary>
    protected virtual string Pool(string connectionString) => connectionString;

    protected virtual void Configure(IWebHostBuilder builder)
    {
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    /// <summary>A client of the real socket, sending the token (if any) on every request.</summary>
    public HttpClient Client(string? token = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return client;
    }

    public async Task<string> TokenAsync(string name = "tester", string[]? scopes = null) =>
        (await TestTokens.IssueAsync(Store, name, scopes)).Secret;

    public async Task ResetAsync()
    {
        await Store.Advanced.ResetAllData();
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var truncate = new NpgsqlCommand("truncate runs.log_lines, runs.run_files, runs.run_file_chunks", connection);
        await truncate.ExecuteNonQueryAsync();
    }

    /// <summary>Triggers and starts a run; its JSON as answered.</summary>
    public static async Task<JsonNode> StartedRunAsync(HttpClient client, string job = "nightly")
    {
        var triggered = await client.PostAsync($"/v1/jobs/{job}/runs", Json("{}"));
        Assert.Equal(System.Net.HttpStatusCode.Created, triggered.StatusCode);
        var run = JsonNode.Parse(await triggered.Content.ReadAsStringAsync())!;
        Assert.True((await client.PostAsync($"{run["uri"]}/start", null)).IsSuccessStatusCode);
        return run;
    }

    public static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}

using Microsoft.AspNetCore.Mvc.Testing;

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
        // The host's Main runs JasperFx's command line, which would read the factory's settings as arguments;
        // this makes it start the host instead (Alba sets the same for its hosts).
        _factory = await HostCommand.BetweenCommandsAsync(() =>
        {
            JasperFx.CommandLine.JasperFxEnvironment.AutoStartHost = true;
            var factory = new Factory(builder =>
            {
                builder.UseEnvironment("Development");
                builder.UseSetting("ConnectionStrings:Runs", ConnectionString);
                builder.UseSetting("Runs:Secrets:CurrentKeyId", "test");
                builder.UseSetting("Runs:Secrets:Keys:test", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
                Configure(builder);
                builder.ConfigureServices(services => services.RunWolverineInSoloMode());
            });
            factory.UseKestrel(0);
            factory.StartServer();
            return Task.FromResult(factory);
        });
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseAddress = new Uri(addresses.First());
        await WarmUpAsync();
    }

    private sealed class Factory(Action<IWebHostBuilder> configure) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder) => configure(builder);
    }

    /// <summary>
    /// Development hosts generate each endpoint's code on its first request, which can take seconds on a busy
    /// machine; a host with a short request time-out calls its endpoints once first, so tests measure the
    /// endpoints and not the code generation.
    /// </summary>
    private async Task WarmUpAsync()
    {
        var token = await TokenAsync("warm-up");
        using var client = Client(token);
        client.Timeout = TimeSpan.FromMinutes(5);
        async Task<HttpResponseMessage> Until(Func<Task<HttpResponseMessage>> call)
        {
            HttpResponseMessage answer;
            while ((answer = await call()).StatusCode == System.Net.HttpStatusCode.ServiceUnavailable)
            {
            }
            return answer;
        }
        var run = JsonNode.Parse(await (await Until(() => client.PostAsync("/v1/jobs/warm-up/runs", Json("{}")))).Content.ReadAsStringAsync())!;
        var uri = (string)run["uri"]!;
        await Until(() => client.PostAsync($"{uri}/start", null));
        await Until(() => client.PostAsync($"{uri}/log", Json("""{"lines":[{"message":"warm"}]}""")));
        await Until(() => client.PutAsync($"{uri}/output", new ByteArrayContent([1]) { Headers = { ContentDisposition = new("attachment") { FileName = "w.bin" } } }));
        await Until(() => client.GetAsync($"{uri}/output"));
        await Until(() => client.GetAsync(uri));
        await Until(() => client.GetAsync("/v1/jobs"));
        await Until(() => client.PostAsync($"{uri}/succeed", null));
        await Until(() => client.GetAsync($"{uri}/log/stream"));
        await ResetAsync();
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

    public Task ResetAsync() => TestData.EmptyAsync(ConnectionString);

    /// <summary>Triggers and starts a run; its JSON as answered.</summary>
    public static async Task<JsonNode> StartedRunAsync(HttpClient client, string job = "nightly")
    {
        var triggered = await client.PostAsync($"/v1/jobs/{job}/runs", Json("{}"));
        var text = await triggered.Content.ReadAsStringAsync();
        Assert.True(triggered.StatusCode == System.Net.HttpStatusCode.Created, text);
        var run = JsonNode.Parse(text)!;
        Assert.True((await client.PostAsync($"{run["uri"]}/start", null)).IsSuccessStatusCode);
        return run;
    }

    public static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}

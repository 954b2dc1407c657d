
namespace Runs.Host.Tests.Harness;

/// <summary>
/// A specification run against its collection's host: the data reset before each test, a token of the client
/// it plays (<see cref="Token"/>) and an HTTP client that sends it (<see cref="Client"/>).
/// </summary>
public abstract class HostSpecification<THost>(THost fixture, string client, string[]? scopes = null) : IAsyncLifetime
    where THost : RunsHost
{
    protected THost Fixture => fixture;

    protected IAlbaHost Api => fixture.Host;

    protected string Token { get; private set; } = "";

    protected HttpClient Client { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        await fixture.ResetAsync();
        Token = await fixture.TokenAsync(client, scopes);
        Client = fixture.Host.Server.CreateClient();
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
    }

    public virtual Task DisposeAsync()
    {
        Client.Dispose();
        return Task.CompletedTask;
    }
}


namespace Runs.Host.Tests.Harness;

/// <summary>
/// A specification run against its collection's host: the data reset before each test, a token of the client
/// it plays (<see cref="Token"/>) and an HTTP client that sends it (<see cref="Client"/>); given an
/// <c>admin</c> name, also an admin-scoped token of that name (<see cref="Admin"/>).
/// </summary>
public abstract class HostSpecification<THost>(THost fixture, string client, string[]? scopes = null, string? admin = null) : IAsyncLifetime
    where THost : RunsHost
{
    protected THost Fixture => fixture;

    protected IAlbaHost Api => fixture.Host;

    protected string Token { get; private set; } = "";

    protected HttpClient Client { get; private set; } = null!;

    protected string Admin { get; private set; } = "";

    public virtual async Task InitializeAsync()
    {
        await fixture.ResetAsync();
        Token = await fixture.TokenAsync(client, scopes);
        Client = fixture.ClientFor(Token);
        if (admin is not null)
        {
            Admin = await fixture.TokenAsync(admin, [Scopes.Admin]);
        }
    }

    public virtual Task DisposeAsync()
    {
        Client.Dispose();
        return Task.CompletedTask;
    }
}

using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Runs.Host.Operations;

/// <summary>Ready needs the database to answer.</summary>
public sealed class DatabaseHealth(IDocumentStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var session = store.QuerySession();
            await session.QueryAsync<int>("select 1", cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy("The database does not answer.", e);
        }
    }
}

/// <summary>
/// Ready also needs this host to be a live member of the hosts sharing the database: its node is registered
/// and its heartbeat is fresh (else the others are about to take its work over), and it is not shutting down
/// (a load balancer stops sending it requests before it stops taking them).
/// </summary>
public sealed class NodeHealth(IWolverineRuntime wolverine, IHostApplicationLifetime lifetime, IOptions<RunsOptions> options, TimeProvider clock)
    : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("The host is shutting down.");
        }
        // A host alone by configuration (the in-process tests) has no node record to check.
        if (wolverine.Options.Durability.Mode == DurabilityMode.Solo)
        {
            return HealthCheckResult.Healthy();
        }
        try
        {
            var node = await wolverine.Storage.Nodes.LoadNodeAsync(wolverine.Options.UniqueNodeId, cancellationToken);
            if (node is null)
            {
                return HealthCheckResult.Unhealthy("This host has not joined the cluster yet.");
            }
            var age = clock.GetUtcNow() - node.LastHealthCheck;
            return age > options.Value.Durability.StaleNodeTimeout
                ? HealthCheckResult.Unhealthy($"This host's last heartbeat was {age.TotalSeconds:0.0} s ago; the others may be taking its work over.")
                : HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy("The database does not answer.", e);
        }
    }
}

public static class HealthEndpoints
{
    public static void MapHealthEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new() { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new() { Predicate = check => check.Tags.Contains("ready") }).AllowAnonymous();
    }
}

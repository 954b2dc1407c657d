
namespace Runs.Host.Webhooks;

/// <summary>
/// Prepares what a delivery runs — the handler and the storage of the documents it reads and writes — as the
/// host starts rather than when the first delivery arrives: a host that takes over a dead one's deliveries
/// spends its first seconds delivering, not compiling (with pre-generated code this only loads the types).
/// </summary>
public sealed class DeliveryWarmUp(IWolverineRuntime wolverine, IDocumentStore store, ILogger<DeliveryWarmUp> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Run(() => wolverine.FindInvoker(typeof(DeliverWebhook)), stoppingToken);
        try
        {
            await using var session = store.QuerySession();
            await session.LoadAsync<WebhookDelivery>("", stoppingToken);
            await session.LoadAsync<WebhookEndpoint>("", stoppingToken);
        }
        catch (Npgsql.NpgsqlException e)
        {
            logger.LogInformation(e, "The database did not answer the delivery warm-up; the first delivery prepares its storage itself.");
        }
    }
}


namespace Runs.Host.Webhooks;

public static class WebhookClient
{
    /// <summary>The durable local queue deliveries are made from.</summary>
    public const string DeliveryQueue = "webhooks";

    /// <summary>The durable local queue run ends are fanned out from, apart from deliveries so a slow receiver never holds it up.</summary>
    public const string FanOutQueue = "run-ended";

    private static WebhooksOptions Options(IConfiguration configuration) =>
        configuration.GetSection($"{RunsOptions.Section}:Webhooks").Get<WebhooksOptions>() ?? new WebhooksOptions();

    /// <summary>
    /// The delivery client: no time-out of its own (each attempt carries one for its whole length, see
    /// <see cref="DeliverWebhookHandler"/>), no redirects followed, pooled connections renewed every few
    /// minutes, and a connect step that refuses internal addresses (unless allowed) after DNS resolution,
    /// so a name cannot be re-pointed at the inside between the endpoint's creation and a delivery.
    /// </summary>
    public static void AddWebhookDelivery(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        var options = Options(configuration);
        var allowPrivate = options.AllowPrivateNetworks ?? environment.IsDevelopment();
        services.AddSingleton(_ => new DeliveryTurns(options.MaxConcurrentDeliveriesPerToken));
        services.AddHostedService<DeliveryWarmUp>();
        services.AddHttpClient(DeliverWebhookHandler.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                ConnectCallback = async (context, cancellation) =>
                {
                    var addresses = IPAddress.TryParse(context.DnsEndPoint.Host, out var literal)
                        ? [literal]
                        : await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellation);
                    var allowed = addresses.Where(a => allowPrivate || !WebhookUrls.IsInternal(a)).ToArray();
                    if (allowed.Length == 0)
                    {
                        throw new HttpRequestException($"'{context.DnsEndPoint.Host}' resolves only to internal addresses; deliveries there are not allowed.");
                    }
                    var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    try
                    {
                        await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellation);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            });
    }

    /// <summary>Where run ends and deliveries are queued, and how many deliveries run at once.</summary>
    public static void UseWebhookQueues(this WolverineOptions wolverine, IConfiguration configuration)
    {
        wolverine.PublishMessage<RunEnded>().ToLocalQueue(FanOutQueue);
        wolverine.PublishMessage<DeliverWebhook>().ToLocalQueue(DeliveryQueue);
        wolverine.LocalQueue(DeliveryQueue).MaximumParallelMessages(Options(configuration).MaxConcurrentDeliveries);
        wolverine.Policies.OnException<WebhookDeadLettered>().MoveToErrorQueue();
    }
}

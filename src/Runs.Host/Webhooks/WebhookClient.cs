using System.Net;
using System.Net.Sockets;

namespace Runs.Host.Webhooks;

public static class WebhookClient
{
    /// <summary>
    /// The delivery client: the configured time-out, no redirects followed, and a connect step that
    /// refuses internal addresses (unless allowed) after DNS resolution, so a name cannot be re-pointed
    /// at the inside between the endpoint's creation and a delivery.
    /// </summary>
    public static void AddWebhookDelivery(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        var options = configuration.GetSection($"{RunsOptions.Section}:Webhooks").Get<WebhooksOptions>() ?? new WebhooksOptions();
        var allowPrivate = options.AllowPrivateNetworks ?? environment.IsDevelopment();
        services.AddHostedService<DeliveryWarmUp>();
        services.AddHttpClient(DeliverWebhookHandler.ClientName, client => client.Timeout = options.Timeout)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
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
}


namespace Runs.Host.Webhooks;

/// <summary>
/// Where deliveries may go: absolute http(s) URLs, and — unless <c>Runs:Webhooks:AllowPrivateNetworks</c> —
/// never to loopback, link-local, private or otherwise internal addresses, checked against what the name
/// resolves to, both when an endpoint is saved and when each delivery connects.
/// </summary>
public static class WebhookUrls
{
    /// <summary>The longest name DNS resolves (255 octets on the wire).</summary>
    public const int MaxHostLength = 253;

    public static string? Problem(string? url)
    {
        if (string.IsNullOrWhiteSpace(url) || url.Length > 2000)
        {
            return "'url' is required (at most 2000 characters).";
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return "'url' must be an absolute http or https URL.";
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "'url' must not carry credentials; verify deliveries with the signature instead.";
        }
        if (uri.DnsSafeHost.Length > MaxHostLength)
        {
            return $"'url' has a host name longer than {MaxHostLength} characters, which DNS cannot resolve.";
        }
        return null;
    }

    public static async Task<string?> PrivateNetworkProblem(string url, bool allowPrivate, CancellationToken cancellation)
    {
        if (allowPrivate)
        {
            return null;
        }
        var host = new Uri(url).DnsSafeHost;
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellation);
        }
        catch (Exception e) when (e is SocketException or ArgumentException)
        {
            return $"'{host}' does not resolve.";
        }
        return addresses.Any(IsInternal)
            ? $"'{host}' resolves to a loopback, link-local or private address; deliveries there are not allowed."
            : null;
    }

    public static bool IsInternal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return true;
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes6 = address.GetAddressBytes();
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || (bytes6[0] == 0xfe && (bytes6[1] & 0xc0) == 0x80);
        }
        var b = address.GetAddressBytes();
        return b[0] == 10
            || b[0] == 127
            || b[0] == 0
            || (b[0] == 169 && b[1] == 254)
            || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 100 && b[1] >= 64 && b[1] <= 127)
            || b[0] >= 224;
    }
}


namespace Runs.Host.Http;

/// <summary>
/// RFC 9110 (9.1) has every server answer HEAD wherever it answers GET. Endpoints are mapped for GET, so a HEAD
/// request is routed as one; Kestrel keeps the method it parsed and sends the answer's headers without its body.
/// </summary>
public static class HeadRequests
{
    private static readonly object Marker = new();

    /// <summary>Whether the client asked for the headers only: an answer that never ends (a live stream) stops after them.</summary>
    public static bool AskedForHeadersOnly(HttpContext http) => http.Items.ContainsKey(Marker);

    public static void UseHeadAsGet(this WebApplication app)
    {
        app.Use((http, next) =>
        {
            if (HttpMethods.IsHead(http.Request.Method))
            {
                http.Request.Method = HttpMethods.Get;
                http.Items[Marker] = true;
            }
            return next(http);
        });
        // Routing must see the method as it now is: routing otherwise runs before every middleware.
        app.UseRouting();
    }
}

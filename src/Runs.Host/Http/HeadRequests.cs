
namespace Runs.Host.Http;

/// <summary>
/// RFC 9110 (9.1) has every server answer HEAD wherever it answers GET. Endpoints are mapped for GET, so a HEAD
/// request is routed as one; Kestrel keeps the method it parsed and sends the answer's headers without its body.
/// </summary>
public static class HeadRequests
{
    public static void UseHeadAsGet(this WebApplication app)
    {
        app.Use((http, next) =>
        {
            if (HttpMethods.IsHead(http.Request.Method))
            {
                http.Request.Method = HttpMethods.Get;
            }
            return next(http);
        });
        // Routing must see the method as it now is: routing otherwise runs before every middleware.
        app.UseRouting();
    }
}

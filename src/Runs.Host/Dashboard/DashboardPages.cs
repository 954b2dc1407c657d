using System.Collections.Frozen;
using Microsoft.AspNetCore.StaticFiles;

namespace Runs.Host.Dashboard;

/// <summary>One file of the dashboard, as compiled into the assembly.</summary>
public sealed record DashboardAsset(byte[] Content, string ContentType, string ETag);

/// <summary>
/// The browser dashboard at <c>/ui</c>: plain HTML, CSS and ES modules compiled into the assembly (no
/// build step, nothing fetched from elsewhere). The page needs no token — it holds no data; every data
/// call it makes is an ordinary <c>/v1</c> request with the user's token. Files live under
/// <c>/ui/assets/</c>; every other path under <c>/ui</c> is a page of the app, answered with its shell
/// so that any page can be bookmarked.
/// </summary>
public static class DashboardPages
{
    public const string Root = "/ui";
    private const string ResourcePrefix = "Ui/";
    private const string AssetsFolder = "assets/";
    private const string ShellName = "index.html";

    /// <summary>Only this origin's own scripts, styles and API; no inline code, no framing.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    private static readonly Lazy<FrozenDictionary<string, DashboardAsset>> Assets = new(Load);

    public static void MapDashboard(this WebApplication app)
    {
        // HEAD arrives as GET (HeadRequests).
        app.MapGet(Root + "/{**path}", Serve)
            .AllowAnonymous()
            .ExcludeFromDescription();
        // Every other method. Without this, routing's own 405 would fall to the fallback policy and ask for a token
        // no page needs; ordered after the pages, so GET and HEAD still find them.
        app.Map(Root + "/{**path}", (HttpContext http) =>
            {
                http.Response.Headers.Allow = "GET, HEAD";
                return Results.Problem(
                    detail: "The dashboard's pages and files answer GET and HEAD; it writes through the /v1 API.",
                    statusCode: StatusCodes.Status405MethodNotAllowed,
                    title: "Method not allowed.");
            })
            .WithOrder(1)
            .AllowAnonymous()
            .ExcludeFromDescription();
    }

    private static IResult Serve(string? path, HttpContext http)
    {
        path ??= "";
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        // Revalidate every time: a new build changes files under the same names.
        headers.CacheControl = "no-cache";

        if (path.StartsWith(AssetsFolder, StringComparison.Ordinal))
        {
            return Assets.Value.TryGetValue(path, out var asset) ? File(http, asset) : Results.NotFound();
        }
        var shell = Assets.Value[ShellName];
        // The shell names its files relative to <base href>, which follows the host's path base.
        var html = Encoding.UTF8.GetString(shell.Content)
            .Replace("<base href=\"/ui/\">", $"<base href=\"{System.Net.WebUtility.HtmlEncode(http.Request.PathBase + Root)}/\">");
        return File(http, shell with { Content = Encoding.UTF8.GetBytes(html) });
    }

    private static IResult File(HttpContext http, DashboardAsset asset) =>
        Results.Bytes(asset.Content, asset.ContentType, entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue(asset.ETag));

    private static FrozenDictionary<string, DashboardAsset> Load()
    {
        var assembly = typeof(DashboardPages).Assembly;
        var types = new FileExtensionContentTypeProvider();
        var assets = new Dictionary<string, DashboardAsset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var content = copy.ToArray();
            var path = name[ResourcePrefix.Length..];
            var type = types.TryGetContentType(path, out var known) ? known : "application/octet-stream";
            if (type.StartsWith("text/", StringComparison.Ordinal) || type is "application/javascript" or "text/javascript" or "image/svg+xml")
            {
                type += "; charset=utf-8";
            }
            assets[path] = new DashboardAsset(content, type, $"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\"");
        }
        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

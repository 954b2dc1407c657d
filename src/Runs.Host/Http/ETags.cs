
namespace Runs.Host.Http;

/// <summary>A run's ETag is its stream version: <c>"7"</c>.</summary>
public static class ETags
{
    public static string Of(long version) => $"\"{version}\"";

    /// <summary>Sets the ETag; true when <c>If-None-Match</c> already names it (answer 304).</summary>
    public static bool NotModified(HttpContext http, long version)
    {
        var etag = Of(version);
        http.Response.Headers.ETag = etag;
        return http.Request.Headers.IfNoneMatch.Any(v => v is not null
            && (v.Trim() == "*" || v.Split(',').Any(t => t.Trim() == etag || t.Trim() == "W/" + etag)));
    }

    /// <summary>
    /// The versions an <c>If-Match</c> header accepts: none (no header, or <c>*</c>: any current version),
    /// or a list of ETags; <c>Invalid</c> when it holds something that is not one of our ETags.
    /// </summary>
    public static (IReadOnlyList<long> Versions, bool Invalid) Expected(HttpRequest request)
    {
        var header = request.Headers[HeaderNames.IfMatch].ToString();
        if (string.IsNullOrWhiteSpace(header) || header.Trim() == "*")
        {
            return ([], false);
        }
        var versions = new List<long>();
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var tag = part.StartsWith("W/", StringComparison.Ordinal) ? part[2..] : part;
            if (tag.Length <= 2 || tag[0] != '"' || tag[^1] != '"' || !long.TryParse(tag[1..^1], out var version) || version <= 0)
            {
                return ([], true);
            }
            versions.Add(version);
        }
        return (versions, false);
    }
}

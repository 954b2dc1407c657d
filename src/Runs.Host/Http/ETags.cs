using Microsoft.Net.Http.Headers;

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

    /// <summary>The version an <c>If-Match</c> header demands; <c>Invalid</c> when it is not one.</summary>
    public static (long? Version, bool Invalid) Expected(HttpRequest request)
    {
        var header = request.Headers[HeaderNames.IfMatch].ToString();
        if (string.IsNullOrWhiteSpace(header))
        {
            return (null, false);
        }
        var trimmed = header.Trim();
        if (trimmed.StartsWith("W/", StringComparison.Ordinal))
        {
            trimmed = trimmed[2..];
        }
        return trimmed.Length > 2 && trimmed[0] == '"' && trimmed[^1] == '"' && long.TryParse(trimmed[1..^1], out var version) && version > 0
            ? (version, false)
            : (null, true);
    }
}

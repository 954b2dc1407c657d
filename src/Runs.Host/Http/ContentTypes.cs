
namespace Runs.Host.Http;

/// <summary>
/// A request's <c>Content-Type</c> is checked once, for every route, before any endpoint reads it: a header that
/// does not parse, a multipart type without a usable boundary, or one that is not plain ASCII (it may be stored
/// and sent back as a response header, where only ASCII is allowed) is a 400 naming the problem.
/// </summary>
public static class ContentTypes
{
    // RFC 2046: a boundary is 1 to 70 characters.
    private const int MaxBoundaryLength = 70;

    public static void UseContentTypeCheck(this WebApplication app) =>
        app.Use(async (http, next) =>
        {
            if (Problem(http.Request.ContentType) is { } problem)
            {
                await Problems.Invalid("Content-Type", problem).ExecuteAsync(http);
                return;
            }
            await next(http);
        });

    /// <summary>What is wrong with a content type, or null when it may be used (or stored).</summary>
    public static string? Problem(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return null;
        }
        if (contentType.Length > 1024 || !contentType.All(c => c is >= ' ' and <= '~'))
        {
            return "The Content-Type header must be printable ASCII of at most 1024 characters.";
        }
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media) || media.Parameters.Any(p => p.Name.Length == 0))
        {
            return $"The Content-Type header '{contentType}' is malformed (RFC 9110: type/subtype; name=value).";
        }
        if (media.Charset.HasValue && !IsKnownCharset(HeaderUtilities.RemoveQuotes(media.Charset).Value))
        {
            return $"The charset '{media.Charset}' is not one this server knows.";
        }
        if (media.Type.Equals("multipart", StringComparison.OrdinalIgnoreCase))
        {
            var boundary = HeaderUtilities.RemoveQuotes(media.Boundary).Value;
            if (string.IsNullOrEmpty(boundary) || boundary.Length > MaxBoundaryLength)
            {
                return $"A multipart Content-Type needs a boundary of 1 to {MaxBoundaryLength} characters.";
            }
        }
        return null;
    }

    private static bool IsKnownCharset(string? name)
    {
        try
        {
            return !string.IsNullOrEmpty(name) && System.Text.Encoding.GetEncoding(name) is not null;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}


namespace Runs.Host.Http;

/// <summary>Reads that speak text by default answer JSON when the client's Accept prefers it.</summary>
public static class Negotiation
{
    public static bool WantsJson(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted))
        {
            return false;
        }
        var json = Quality(accepted, "application/json");
        var text = Quality(accepted, "text/plain");
        return json > 0 && json > text;
    }

    private static double Quality(IList<MediaTypeHeaderValue> accepted, string mediaType) =>
        accepted.Where(a => a.MediaType.Equals(mediaType, StringComparison.OrdinalIgnoreCase))
            .Select(a => a.Quality ?? 1.0)
            .DefaultIfEmpty(0)
            .Max();
}

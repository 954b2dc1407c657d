
namespace Runs.Host.Http;

/// <summary><c>page_size</c>: default when absent, at most <c>max</c> (larger values are treated as max), 400 when ≤ 0 or not a number.</summary>
public static class PageSize
{
    /// <summary>
    /// <c>page_size</c> and <c>page_token</c> together: the size, the position the token names (none when there is
    /// no token), or a 400 naming the one that is wrong. <paramref name="decode"/> gives null for a token this
    /// service did not hand out.
    /// </summary>
    public static (int Size, TCursor? After, IResult? Problem) WithToken<TCursor>(HttpRequest request, int fallback, int max, Func<string, TCursor?> decode)
    {
        var (size, sizeProblem) = Parse(request, fallback, max);
        if (sizeProblem is not null)
        {
            return (0, default, sizeProblem);
        }
        if (!request.Query.TryGetValue("page_token", out var token) || string.IsNullOrEmpty(token))
        {
            return (size, default, null);
        }
        return decode(token.ToString()) is { } after
            ? (size, after, null)
            : (0, default, Problems.Invalid("page_token", "'page_token' is not one this service handed out."));
    }

    public static (int Size, IResult? Problem) Parse(HttpRequest request, int fallback, int max)
    {
        if (!request.Query.TryGetValue("page_size", out var text))
        {
            return (fallback, null);
        }
        var value = text.ToString().Trim();
        if (value.Length > 0 && value.All(char.IsAsciiDigit) && value.TrimStart('0').Length > 0)
        {
            // Any positive integer, however long, is a request for "as many as allowed".
            return (decimal.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size < max ? (int)size : max, null);
        }
        return (0, Problems.Invalid("page_size", $"'page_size' must be a positive integer (values above {max} are treated as {max})."));
    }
}


namespace Runs.Host.Http;

/// <summary><c>page_size</c>: default when absent, at most <c>max</c> (larger values are treated as max), 400 when ≤ 0 or not a number.</summary>
public static class PageSize
{
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

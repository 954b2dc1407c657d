
namespace Runs.Host.Runs.Shared;

/// <summary>Filter text → expression, or a 400 naming the position and what was expected.</summary>
public static class Filters
{
    public const int MaxLength = 2000;

    public static (RunFilter? Filter, IResult? Problem) Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return (null, null);
        }
        if (text.Length > MaxLength)
        {
            return (null, Problems.Invalid("filter", $"A filter may be at most {MaxLength} characters."));
        }
        try
        {
            var filter = RunFilter.Parse(text);
            // Translate once up front so unknown fields and bad values are reported before any query runs.
            new FilterSql([]).Translate(filter);
            return (filter, null);
        }
        catch (FilterError error)
        {
            return (null, Problem(error));
        }
    }

    public static IResult Problem(FilterError error) =>
        Results.Problem(
            detail: $"The filter is not valid: {error.Message}",
            statusCode: StatusCodes.Status400BadRequest,
            title: "The request is invalid.",
            extensions: new Dictionary<string, object?>
            {
                ["errors"] = new Dictionary<string, string[]> { ["filter"] = [error.Message] },
                ["position"] = error.Position,
            });
}

using System.Text.RegularExpressions;

namespace Runs.Host.Runs.History;

/// <summary>Events are stored as written; times inside them are shown as everywhere else: RFC 3339 UTC, milliseconds, Z.</summary>
public static partial class EventTimes
{
    /// <summary>Stored events may hold client JSON nested close to the 64 levels readers allow by default.</summary>
    private static readonly JsonDocumentOptions Stored = new() { MaxDepth = JsonBody.StoredJsonWriteDepth };

    private static readonly JsonSerializerOptions Deep = new() { MaxDepth = JsonBody.StoredJsonWriteDepth };

    public static JsonElement Normalise(string json)
    {
        var node = JsonNode.Parse(json, documentOptions: Stored);
        Rewrite(node);
        return JsonSerializer.SerializeToElement(node, Deep);
    }

    /// <summary>Rewrites time strings in place, one pass over the tree.</summary>
    private static void Rewrite(JsonNode? node)
    {
        var children = node switch
        {
            JsonObject obj => obj.Select(p => p.Value),
            JsonArray array => array,
            _ => [],
        };
        foreach (var child in children.ToList())
        {
            if (child is JsonValue value && value.TryGetValue<string>(out var text) && Timestamp().IsMatch(text)
                && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var time))
            {
                child.ReplaceWith(Rfc3339Converter.Text(time));
            }
            else
            {
                Rewrite(child);
            }
        }
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex Timestamp();
}

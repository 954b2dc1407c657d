using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Runs.Host.Http;

namespace Runs.Host.Runs.History;

/// <summary>Events are stored as written; times inside them are shown as everywhere else: RFC 3339 UTC, milliseconds, Z.</summary>
public static partial class EventTimes
{
    public static JsonElement Normalise(string json)
    {
        var node = JsonNode.Parse(json);
        return JsonSerializer.SerializeToElement(Rewrite(node));
    }

    private static JsonNode? Rewrite(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var key in obj.Select(p => p.Key).ToList())
                {
                    obj[key] = Rewrite(obj[key]?.DeepClone());
                }
                return obj;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    array[i] = Rewrite(array[i]?.DeepClone());
                }
                return array;
            case JsonValue value when value.TryGetValue<string>(out var text) && Timestamp().IsMatch(text)
                && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var time):
                return JsonValue.Create(Rfc3339Converter.Text(time));
            default:
                return node;
        }
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex Timestamp();
}

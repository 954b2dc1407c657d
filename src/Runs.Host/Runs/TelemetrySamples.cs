
namespace Runs.Host.Runs;

/// <summary>A sample is an optional RFC 3339 <c>at</c> and numbers; <c>at</c> defaults to the server's time.</summary>
public static class TelemetrySamples
{
    public const string Rule = "A telemetry sample holds an optional RFC 3339 'at' and numeric fields only (at most 50).";

    public static bool IsValid(IReadOnlyDictionary<string, JsonElement> sample) =>
        sample.Count <= 51
        && sample.All(field => field.Key == "at"
            ? field.Value.ValueKind == JsonValueKind.String && Rfc3339Converter.TryParse(field.Value.GetString(), out _)
            : field.Value.ValueKind == JsonValueKind.Number && double.IsFinite(field.Value.GetDouble()) && field.Key.Length is > 0 and <= 100);

    public static IReadOnlyDictionary<string, JsonElement> Stamp(IReadOnlyDictionary<string, JsonElement> sample, DateTimeOffset now)
    {
        var stamped = new Dictionary<string, JsonElement>(sample);
        if (!stamped.ContainsKey("at"))
        {
            stamped["at"] = JsonSerializer.SerializeToElement(Rfc3339Converter.Text(now));
        }
        return stamped;
    }
}

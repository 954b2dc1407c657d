
namespace Runs.Host.Http;

/// <summary>Times go out as RFC 3339 UTC with milliseconds and a Z; any RFC 3339 offset is read.</summary>
public sealed class Rfc3339Converter : JsonConverter<DateTimeOffset>
{
    public const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static string Text(DateTimeOffset value) =>
        value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String && TryParse(reader.GetString(), out var value))
        {
            return value;
        }
        throw new JsonException("Expected an RFC 3339 time such as 2026-06-13T08:15:02.123Z.");
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(Text(value));

    public static bool TryParse(string? text, out DateTimeOffset value)
    {
        // RFC 3339 requires a date, a 'T', a time and an offset; DateTimeOffset.Parse alone accepts far more.
        if (text is { Length: >= 20 } && (text[10] == 'T' || text[10] == 't')
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out value)
            && (text.EndsWith('Z') || text.EndsWith('z') || text[^6] is '+' or '-'))
        {
            return true;
        }
        value = default;
        return false;
    }
}


namespace Runs.Host.Http;

/// <summary>
/// Every free-form JSON value a request body carries (<c>input</c>, telemetry summary values, samples) is
/// bound as a <see cref="JsonElement"/>, so checking it here, as it is read, holds for every route: too
/// deep, a number or a string PostgreSQL cannot store, and the body answers 400 naming the field.
/// </summary>
public sealed class StoredJsonConverter(int maxDepth) : JsonConverter<JsonElement>
{
    public override JsonElement Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var scan = reader;
        if (StoredJson.Refusal(ref scan, maxDepth) is { } refusal)
        {
            throw new StoredJsonRefused(refusal);
        }
        return JsonElement.ParseValue(ref reader);
    }

    public override void Write(Utf8JsonWriter writer, JsonElement value, JsonSerializerOptions options) => value.WriteTo(writer);
}

/// <summary>
/// Every other string a request body carries (a source, a label, an argument, a log line, a reason) is
/// stored too, so the same holds for it: U+0000, which PostgreSQL cannot store, is a 400 naming the field
/// before anything is written, not a failed commit (which, for grouped log appends, would fail the group).
/// For reading bodies (<see cref="JsonBody"/>); answers are written by the serializer's own.
/// </summary>
public sealed class StoredStringConverter : JsonConverter<string>
{
    // The string is decoded anyway, so it is decoded once and looked at (only escaped text can hold U+0000).
    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var value = reader.GetString()!;
        return reader.ValueIsEscaped && value.Contains('\0') ? throw new StoredJsonRefused(StoredJson.NulRule) : value;
    }

    public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Read(ref reader, typeToConvert, options);

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}

/// <summary>A value refused by <see cref="StoredJsonConverter"/>; the serializer adds the path to it.</summary>
public sealed class StoredJsonRefused(string refusal) : JsonException(refusal);

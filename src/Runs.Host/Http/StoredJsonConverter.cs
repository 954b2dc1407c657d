
namespace Runs.Host.Http;

/// <summary>
/// Every free-form JSON value a request body carries (<c>input</c>, telemetry summary values, samples) is
/// bound as a <see cref="JsonElement"/>, so checking it here, as it is read, holds for every route: too
/// deep or a number PostgreSQL cannot store, and the body answers 400 naming the field.
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

/// <summary>A value refused by <see cref="StoredJsonConverter"/>; the serializer adds the path to it.</summary>
public sealed class StoredJsonRefused(string refusal) : JsonException(refusal);

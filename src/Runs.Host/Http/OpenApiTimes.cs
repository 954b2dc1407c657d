
namespace Runs.Host.Http;

/// <summary>
/// Times are read and written through <see cref="Rfc3339Converter"/>, which the OpenAPI generator cannot see
/// through: it would describe them as anything (<c>{}</c>). Here they are what they are on the wire.
/// </summary>
public static class OpenApiTimes
{
    public static void Describe(OpenApiOptions options) =>
        options.AddSchemaTransformer((schema, context, _) =>
        {
            var type = context.JsonTypeInfo.Type;
            if (schema.Type is null && (Nullable.GetUnderlyingType(type) ?? type) == typeof(DateTimeOffset))
            {
                schema.Type = type == typeof(DateTimeOffset) ? JsonSchemaType.String : JsonSchemaType.String | JsonSchemaType.Null;
                schema.Format = "date-time";
            }
            return Task.CompletedTask;
        });
}

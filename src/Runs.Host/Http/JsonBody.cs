
namespace Runs.Host.Http;

/// <summary>
/// Reads a JSON command body with the answers the contract promises: 413 past the size limit,
/// 415 for another media type, 400 naming the field for malformed JSON or a wrong type.
/// </summary>
public sealed class JsonBody(IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, IOptions<RunsOptions> options)
{
    public JsonSerializerOptions SerializerOptions => json.Value.SerializerOptions;

    /// <summary>
    /// Readers cap JSON at 64 levels. What the ledger stores as sent may come close to that (bodies were
    /// read that deep before stored JSON was capped at <see cref="LimitsOptions.MaxJsonDepth"/>), so answers
    /// that wrap stored JSON in more levels (the events list, webhook payloads) are written with room to spare.
    /// </summary>
    public const int StoredJsonWriteDepth = 128;

    private readonly Lazy<JsonSerializerOptions> _deep = new(() => new JsonSerializerOptions(json.Value.SerializerOptions) { MaxDepth = StoredJsonWriteDepth });

    // Only for reading bodies: in the shared options the converter would hide every string's type from the OpenAPI document.
    private readonly Lazy<JsonSerializerOptions> _reading = new(() => new JsonSerializerOptions(json.Value.SerializerOptions) { Converters = { new StoredStringConverter() } });

    /// <summary><see cref="SerializerOptions"/> for writing answers that wrap stored client JSON.</summary>
    public JsonSerializerOptions StoredJsonOptions => _deep.Value;

    /// <summary>An absent body is allowed (gives <c>null</c>) unless <paramref name="required"/>.</summary>
    public async Task<(T? Body, IResult? Problem)> ReadAsync<T>(HttpRequest request, bool required = false, long? limit = null)
        where T : class
    {
        var (body, _, problem) = await ReadWithBytesAsync<T>(request, required, limit);
        return (body, problem);
    }

    /// <summary>As <see cref="ReadAsync{T}"/>, also giving the raw bytes (to fingerprint the request).</summary>
    public async Task<(T? Body, byte[] Bytes, IResult? Problem)> ReadWithBytesAsync<T>(HttpRequest request, bool required = false, long? limit = null)
        where T : class
    {
        var max = limit ?? options.Value.Limits.MaxJsonBodyBytes;
        var (bytes, tooLarge) = await ReadLimitedAsync(request, max);
        if (tooLarge)
        {
            return (null, [], Problems.TooLarge(max));
        }

        var hasBody = bytes.Length > 0;
        if ((hasBody || request.ContentType is not null) && !IsJson(request.ContentType))
        {
            return (null, bytes, Problems.UnsupportedMediaType(request.ContentType, "application/json"));
        }
        if (!hasBody)
        {
            return required
                ? (null, bytes, Problems.Invalid("body", "A JSON object is required as the request body."))
                : (null, bytes, null);
        }

        var (body, problem) = Deserialize<T>(bytes);
        return (body, bytes, problem);
    }

    public (T? Body, IResult? Problem) Deserialize<T>(ReadOnlyMemory<byte> bytes) where T : class
    {
        try
        {
            var body = JsonSerializer.Deserialize<T>(bytes.Span, _reading.Value);
            return body is null
                ? (null, Problems.Invalid("body", "The request body must be a JSON object, not null."))
                : (body, null);
        }
        catch (StoredJsonRefused e)
        {
            var field = FieldName(e.Path);
            return (null, Problems.Invalid(field, $"'{field}' {e.Message}."));
        }
        catch (JsonException e)
        {
            var field = FieldName(e.Path);
            var message = field == "body"
                ? "The request body must be a JSON object."
                : $"'{field}' has the wrong type or is malformed.";
            return (null, Problems.Invalid(field, message));
        }
    }

    public static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media)
        && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.MediaType.Value!.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    public static async Task<(byte[] Bytes, bool TooLarge)> ReadLimitedAsync(HttpRequest request, long limit)
    {
        if (request.ContentLength > limit)
        {
            return ([], true);
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return ([], true);
            }
            buffer.Write(chunk, 0, read);
        }
        return (buffer.ToArray(), false);
    }

    /// <summary>
    /// <c>$.env[2].key</c> → <c>env[2].key</c>; no path means the body itself. A property name's U+0000 (one
    /// reason to refuse it) is spelled out, so the answer names the field in text a client can print.
    /// </summary>
    private static string FieldName(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? "body" : StoredJson.Printable(path.TrimStart('$', '.'));
}

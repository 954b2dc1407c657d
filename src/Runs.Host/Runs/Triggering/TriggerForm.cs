using Microsoft.AspNetCore.Http.Features;

namespace Runs.Host.Runs.Triggering;

/// <summary>
/// A <c>multipart/form-data</c> trigger: each file part is an input file kept under its original name;
/// the other parts are the JSON fields (<c>argv</c>, <c>env</c>, <c>labels</c>, <c>input</c> as JSON text,
/// the rest as plain text), or one part named <c>run</c> holding them all as a JSON object.
/// </summary>
public static class TriggerForm
{
    private static readonly HashSet<string> JsonFields = ["argv", "env", "labels", "input"];
    // A field named twice is a mistake to point out, not a value to pick.
    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false };
    public const int MaxFiles = 100;

    public static async Task<(TriggerRun? Body, IReadOnlyList<UploadedFile> Files, IResult? Problem)> ReadAsync(
        HttpRequest request, JsonBody json, long limit, NpgsqlDataSource database)
    {
        if (request.ContentLength > limit)
        {
            return (null, [], Problems.TooLarge(limit));
        }
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit;
        }

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = limit, ValueCountLimit = 1000 }, request.HttpContext.RequestAborted);
        }
        catch (InvalidDataException e) when (e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
        {
            return (null, [], Problems.TooLarge(limit));
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return (null, [], Problems.Invalid("body", $"The multipart body could not be read: {e.Message}"));
        }

        var fields = new JsonObject();
        if (form.TryGetValue("run", out var run))
        {
            try
            {
                if (JsonNode.Parse(run.ToString(), documentOptions: Strict) is not JsonObject all)
                {
                    return (null, [], Problems.Invalid("run", "The 'run' part must hold a JSON object."));
                }
                fields = all;
            }
            catch (JsonException)
            {
                return (null, [], Problems.Invalid("run", "The 'run' part is not valid JSON (or names a field twice)."));
            }
        }
        foreach (var (key, values) in form.Where(f => f.Key != "run"))
        {
            if (JsonFields.Contains(key))
            {
                try
                {
                    fields[key] = key == "argv" && values.Count > 1
                        ? new JsonArray([.. values.Select(v => JsonValue.Create(v))])
                        : JsonNode.Parse(values.ToString(), documentOptions: Strict);
                }
                catch (JsonException)
                {
                    return (null, [], Problems.Invalid(key, $"The '{key}' part must be JSON."));
                }
            }
            else
            {
                fields[key] = values.ToString();
            }
        }

        var (body, problem) = json.Deserialize<TriggerRun>(Encoding.UTF8.GetBytes(fields.ToJsonString()));
        if (problem is not null)
        {
            return (null, [], problem);
        }

        if (form.Files.Count > MaxFiles)
        {
            return (null, [], Problems.Invalid("files", $"At most {MaxFiles} input files."));
        }
        var files = new List<UploadedFile>();
        foreach (var file in form.Files)
        {
            if (Uploads.FileName(file.FileName) is not { } name)
            {
                return (null, [], Problems.Invalid("files", $"The file in part '{file.Name}' needs a name. {Uploads.FileNameRule}"));
            }
            if (files.Any(f => f.Name == name))
            {
                return (null, [], Problems.Invalid("files", $"Two input files are named '{name}'."));
            }
            if (ContentTypes.Problem(file.ContentType) is { } badType)
            {
                return (null, [], Problems.Invalid("files", $"File '{name}': {badType}"));
            }
            await using var content = file.OpenReadStream();
            var blob = await RunFileStore.WriteAsync(database, content, limit, request.HttpContext.RequestAborted);
            files.Add(new UploadedFile(name, string.IsNullOrEmpty(file.ContentType) ? "application/octet-stream" : file.ContentType, blob));
        }

        return (body, files, null);
    }
}


namespace Runs.Host.Runs.Outputs;

public sealed record OutputFiles(IReadOnlyList<StoredFile> Files);

/// <summary>
/// <c>PUT .../runs/{run}/output</c>: one raw file (its <c>Content-Type</c>, and <c>Content-Disposition:
/// attachment; filename=…</c>) or several as <c>multipart/form-data</c>; replaces the whole output. Bytes are
/// streamed to storage as they arrive; the files become the output when the <see cref="OutputAttached"/> commits.
/// A transfer: exempt from the request time-out, bounded by the size caps and Kestrel's minimum data rate instead.
/// </summary>
/// <summary>What <c>PUT .../output</c> carries: the files, streamed to storage as they arrived.</summary>
public sealed record OutputUpload([property: System.Text.Json.Serialization.JsonIgnore] IReadOnlyList<UploadedFile> Files)
{
    /// <summary>What a retry with the same <c>Idempotency-Key</c> must repeat: the files by name, type and content.</summary>
    public IReadOnlyList<StoredFile> Described => [.. Files.Select(f => f.Describe())];
}

public static class AttachOutputEndpoint
{
    [Authorize(Scopes.RunsWrite)]
    [WolverinePut("/v1/jobs/{job}/runs/{run}/output", OperationId = "attachOutput", Summary = "Attach a run's output")]
    [Tags("Outputs")]
    [ProducesResponseType<OutputFiles>(StatusCodes.Status200OK)]
    [DisableRequestTimeout]
    public static RunAnswer Put(OutputUpload body, Run run, IDocumentSession session, TimeProvider clock)
    {
        var files = body.Described;
        return new(RunDecider.AttachOutput(run, files, clock.GetUtcNow()), (_, _) =>
        {
            RunFileStore.QueueReplace(session, run.Id, RunFileStore.Output, body.Files);
            return Task.FromResult<object>(new OutputFiles(files));
        });
    }

    /// <summary>The files as uploaded, in storage already; a run whose retention expired takes none (410).</summary>
    public static async Task<(OutputUpload? Body, IResult? Problem)> ReadBodyAsync(HttpContext http)
    {
        var (job, run) = ((string)http.Request.RouteValues["job"]!, (string)http.Request.RouteValues["run"]!);
        await using (var query = http.RequestServices.GetRequiredService<IDocumentStore>().QuerySession())
        {
            if (await RunLookup.FindAsync(query, job, run, http.RequestAborted) is not { } found)
            {
                return (null, Problems.NotFound($"No run '{run}' in job '{job}'."));
            }
            if (Expiry.Gone(found) is { } gone)
            {
                return (null, gone);
            }
        }

        var limits = http.RequestServices.GetRequiredService<IOptions<RunsOptions>>().Value.Outputs;
        if (http.Request.ContentLength > limits.MaxBytesPerRun + 64 * 1024)
        {
            return (null, Problems.TooLarge(limits.MaxBytesPerRun));
        }
        if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limits.MaxBytesPerRun + 64 * 1024;
        }

        var database = http.RequestServices.GetRequiredService<NpgsqlDataSource>();
        try
        {
            var (files, problem) = Uploads.IsMultipart(http.Request)
                ? await ReadMultipartAsync(http.Request, database, limits)
                : await ReadSingleAsync(http.Request, database, limits);
            return problem is null ? (new OutputUpload(files), null) : (null, problem);
        }
        catch (RunFileStore.TooLarge tooLarge)
        {
            return (null, Problems.TooLarge(tooLarge.Limit));
        }
    }

    private static async Task<(List<UploadedFile>, IResult?)> ReadSingleAsync(HttpRequest request, NpgsqlDataSource database, Retention.OutputsOptions limits)
    {
        var given = FileName(request.Headers.ContentDisposition);
        if (given is null)
        {
            return ([], Problems.Invalid("Content-Disposition", "Name the file: 'Content-Disposition: attachment; filename=\"report.csv\"'."));
        }
        if (Uploads.FileName(given) is not { } name)
        {
            return ([], Problems.Invalid("filename", Uploads.FileNameRule));
        }
        var blob = await RunFileStore.WriteAsync(database, request.Body, Math.Min(limits.MaxBytesPerFile, limits.MaxBytesPerRun), request.HttpContext.RequestAborted);
        return ([new UploadedFile(name, string.IsNullOrEmpty(request.ContentType) ? "application/octet-stream" : request.ContentType, blob)], null);
    }

    private static async Task<(List<UploadedFile>, IResult?)> ReadMultipartAsync(HttpRequest request, NpgsqlDataSource database, Retention.OutputsOptions limits)
    {
        var boundary = HeaderUtilities.RemoveQuotes(MediaTypeHeaderValue.Parse(request.ContentType).Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            return ([], Problems.Invalid("Content-Type", "A multipart body needs a boundary."));
        }
        var reader = new MultipartReader(boundary, request.Body);
        var files = new List<UploadedFile>();
        long total = 0;
        try
        {
            while (await reader.ReadNextSectionAsync(request.HttpContext.RequestAborted) is { } section)
            {
                var given = FileName(section.ContentDisposition);
                if (given is null)
                {
                    continue;
                }
                if (Uploads.FileName(given) is not { } name)
                {
                    return ([], Problems.Invalid("filename", Uploads.FileNameRule));
                }
                if (files.Any(f => f.Name == name) || files.Count >= limits.MaxFilesPerRun)
                {
                    return ([], Problems.Invalid("files", files.Count >= limits.MaxFilesPerRun
                        ? $"At most {limits.MaxFilesPerRun} output files."
                        : $"Two files are named '{name}'."));
                }
                if (ContentTypes.Problem(section.ContentType) is { } badType)
                {
                    return ([], Problems.Invalid("Content-Type", $"File '{name}': {badType}"));
                }
                var limit = Math.Min(limits.MaxBytesPerFile, limits.MaxBytesPerRun - total);
                var blob = await RunFileStore.WriteAsync(database, section.Body, limit, request.HttpContext.RequestAborted, [.. files.Select(f => f.Blob.BlobId)]);
                total += blob.Size;
                files.Add(new UploadedFile(name, section.ContentType ?? "application/octet-stream", blob));
            }
        }
        catch (IOException e) when (e is not EndOfStreamException)
        {
            return ([], Problems.Invalid("body", $"The multipart body could not be read: {e.Message}"));
        }
        return files.Count == 0
            ? ([], Problems.Invalid("files", "The multipart body holds no file parts (parts with a filename)."))
            : (files, null);
    }

    private static string? FileName(string? contentDisposition) =>
        ContentDispositionHeaderValue.TryParse(contentDisposition, out var disposition)
            ? HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value
            : null;
}

using Microsoft.AspNetCore.Authorization;
using Marten;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Npgsql;
using Runs.Domain;
using Runs.Host.Auth;
using Runs.Host.Tokens;
using Runs.Host.Http;
using Runs.Host.Runs.Reading;
using Runs.Projections;
using Wolverine;
using Wolverine.Http;

namespace Runs.Host.Runs.Outputs;

public sealed record OutputFiles(IReadOnlyList<StoredFile> Files);

/// <summary>
/// <c>PUT .../runs/{run}/output</c>: one raw file (its <c>Content-Type</c>, and <c>Content-Disposition:
/// attachment; filename=…</c>) or several as <c>multipart/form-data</c>; replaces the whole output. Bytes are
/// streamed to storage as they arrive; the files become the output when the <see cref="OutputAttached"/> commits.
/// A transfer: exempt from the request time-out, bounded by the size caps and Kestrel's minimum data rate instead.
/// </summary>
public static class AttachOutputEndpoint
{
    [Authorize(Scopes.RunsWrite)]
    [WolverinePut("/v1/jobs/{job}/runs/{run}/output", OperationId = "attachOutput", Summary = "Attach a run's output")]
    [Tags("Outputs")]
    [ProducesResponseType<OutputFiles>(StatusCodes.Status200OK)]
    [DisableRequestTimeout]
    public static async Task<IResult> Put(
        string job, string run, HttpContext http, IDocumentSession session, IMessageBus bus, JsonBody json,
        NpgsqlDataSource database, IOptions<RunsOptions> options, TimeProvider clock)
    {
        if (await RunLookup.FindAsync(session, job, run, http.RequestAborted) is not { } found)
        {
            return Problems.NotFound($"No run '{run}' in job '{job}'.");
        }
        if (Retention.Expiry.Gone(found) is { } gone)
        {
            return gone;
        }

        var limits = options.Value.Outputs;
        if (http.Request.ContentLength > limits.MaxBytesPerRun + 64 * 1024)
        {
            return Problems.TooLarge(limits.MaxBytesPerRun);
        }
        if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limits.MaxBytesPerRun + 64 * 1024;
        }

        List<UploadedFile> files;
        try
        {
            var (read, problem) = Uploads.IsMultipart(http.Request)
                ? await ReadMultipartAsync(http.Request, database, limits)
                : await ReadSingleAsync(http.Request, database, limits);
            if (problem is not null)
            {
                return problem;
            }
            files = read;
        }
        catch (RunFileStore.TooLarge tooLarge)
        {
            return Problems.TooLarge(tooLarge.Limit);
        }

        var attached = files.Select(f => f.Describe()).ToList();
        return await RunWrites.AppendAsync(job, run, http, session, bus, json, attached,
            current => current.ExpiredOn is null
                ? new Decision.Append([new OutputAttached(run, attached, clock.GetUtcNow() > current.LastModified ? clock.GetUtcNow() : current.LastModified)])
                : new Decision.Conflict(current.Status, "attach output to", "Cannot attach output to a run whose retention has expired."),
            (_, _) =>
            {
                RunFileStore.QueueReplace(session, run, RunFileStore.Output, files);
                return Task.FromResult<object>(new OutputFiles(attached));
            });
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

using System.IO.Compression;

namespace Runs.Host.Runs.Outputs;

public static class ReadOutputEndpoint
{
    /// <summary>
    /// One file as it was stored; several as one zip, streamed; none: 204. A transfer: exempt from the request
    /// time-out (Kestrel's minimum data rate bounds a slow reader instead). Length, ETag and bytes all come from
    /// the file rows read once, so a replacement or purge meanwhile cannot mix one file's headers with another's bytes.
    /// </summary>
    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs/{job}/runs/{run}/output", OperationId = "readOutput", Summary = "Download a run's output")]
    [Tags("Outputs")]
    [Produces("application/octet-stream", "application/zip")]
    [DisableRequestTimeout]
    public static async Task<IResult> Get(Run run, HttpContext http, NpgsqlDataSource database)
    {
        if (Expiry.Gone(run) is { } gone)
        {
            return gone;
        }
        // In the order they were attached, as the run lists them.
        var attached = run.OutputFiles.Select(f => f.Name).ToList();
        var files = (await RunFileStore.ListAsync(database, run.Id, RunFileStore.Output, http.RequestAborted))
            .OrderBy(f => attached.IndexOf(f.Name) is var at and >= 0 ? at : int.MaxValue)
            .ThenBy(f => f.Name, StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0)
        {
            return Results.NoContent();
        }

        var response = http.Response;
        if (files.Count == 1)
        {
            var file = files[0];
            response.ContentType = file.ContentType;
            response.ContentLength = file.Size;
            response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = Http.AsciiFileName.Of(file.Name), FileNameStar = file.Name }.ToString();
            response.Headers.ETag = $"\"{file.Sha256}\"";
            await RunFileStore.CopyToAsync(database, file.BlobId, response.Body, http.RequestAborted);
            return Results.Empty;
        }

        response.ContentType = "application/zip";
        response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = $"{run.Id}-output.zip" }.ToString();
        // The asynchronous archive, so slow readers block no thread. Even so, closing an entry (the end of its
        // deflate stream, its data descriptor) writes synchronously: those few bytes land in this buffer, which
        // is emptied asynchronously before each entry closes and after the central directory.
        var body = new BufferedStream(response.Body, 64 * 1024);
        await using (var zip = await ZipArchive.CreateAsync(body, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: null, http.RequestAborted))
        {
            foreach (var file in files)
            {
                var entry = zip.CreateEntry(file.Name, CompressionLevel.Fastest);
                await using var target = await entry.OpenAsync(http.RequestAborted);
                await RunFileStore.CopyToAsync(database, file.BlobId, target, http.RequestAborted);
                await target.FlushAsync(http.RequestAborted);
                await body.FlushAsync(http.RequestAborted);
            }
        }
        await body.FlushAsync(http.RequestAborted);
        return Results.Empty;
    }
}

using System.IO.Compression;
using Marten;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Npgsql;
using Runs.Host.Access;
using Runs.Host.Http;
using Runs.Host.Runs.Reading;
using Runs.Projections;
using Wolverine.Http;

namespace Runs.Host.Runs.Outputs;

public static class ReadOutputEndpoint
{
    /// <summary>One file as it was stored; several as one zip, streamed; none: 204.</summary>
    [WolverineGet("/v1/jobs/{job}/runs/{run}/output", OperationId = "readOutput", Summary = "Download a run's output")]
    [Tags("Outputs")]
    [Produces("application/octet-stream", "application/zip")]
    public static async Task<IResult> Get(string job, string run, HttpContext http, IQuerySession session, NpgsqlDataSource database)
    {
        if (http.User.Refuse(Scopes.RunsRead, job) is { } refused)
        {
            return refused;
        }
        if (await RunLookup.FindAsync(session, job, run, http.RequestAborted) is not { } found)
        {
            return Problems.NotFound($"No run '{run}' in job '{job}'.");
        }
        if (Retention.Expiry.Gone(found) is { } gone)
        {
            return gone;
        }
        var files = found.OutputFiles;
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
            await RunFileStore.CopyToAsync(database, run, RunFileStore.Output, file.Name, response.Body, http.RequestAborted);
            return Results.Empty;
        }

        response.ContentType = "application/zip";
        response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = $"{run}-output.zip" }.ToString();
        // ZipArchive finishes entries with synchronous writes; the bytes still flow out as they are read.
        if (http.Features.Get<IHttpBodyControlFeature>() is { } body)
        {
            body.AllowSynchronousIO = true;
        }
        using (var zip = new ZipArchive(response.Body, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var file in files)
            {
                var entry = zip.CreateEntry(file.Name, CompressionLevel.Fastest);
                await using var target = entry.Open();
                await RunFileStore.CopyToAsync(database, run, RunFileStore.Output, file.Name, target, http.RequestAborted);
            }
        }
        return Results.Empty;
    }
}

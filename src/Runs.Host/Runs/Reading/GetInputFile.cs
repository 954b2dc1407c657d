
namespace Runs.Host.Runs.Reading;

public static class GetInputFileEndpoint
{
    /// <summary>A transfer: exempt from the request time-out; Kestrel's minimum data rate bounds a slow reader instead.</summary>
    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs/{job}/runs/{run}/input/{name}", OperationId = "getInputFile", Summary = "Download an input file")]
    [Tags("Reading runs")]
    [Produces("application/octet-stream")]
    [DisableRequestTimeout]
    public static async Task<IResult> Get(Run run, string name, HttpContext http, NpgsqlDataSource database)
    {
        if (Expiry.Gone(run) is { } gone)
        {
            return gone;
        }
        // One read of the file's row gives length, ETag and bytes that belong together.
        var files = await RunFileStore.ListAsync(database, run.Id, RunFileStore.Input, http.RequestAborted);
        if (files.FirstOrDefault(f => f.Name == name) is not { } file)
        {
            return Problems.NotFound($"Run '{run.Id}' has no input file '{name}'.");
        }

        http.Response.ContentType = file.ContentType;
        http.Response.ContentLength = file.Size;
        http.Response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = Http.AsciiFileName.Of(file.Name), FileNameStar = file.Name }.ToString();
        http.Response.Headers.ETag = $"\"{file.Sha256}\"";
        await RunFileStore.CopyToAsync(database, file.BlobId, http.Response.Body, http.RequestAborted);
        return Results.Empty;
    }
}

using Marten;
using Microsoft.Net.Http.Headers;
using Npgsql;
using Runs.Host.Access;
using Runs.Host.Http;
using Runs.Projections;
using Wolverine.Http;

namespace Runs.Host.Runs.Reading;

public static class GetInputFileEndpoint
{
    [WolverineGet("/v1/jobs/{job}/runs/{run}/input/{name}", OperationId = "getInputFile", Summary = "Download an input file")]
    [Tags("Reading runs")]
    [Produces("application/octet-stream")]
    public static async Task<IResult> Get(string job, string run, string name, HttpContext http, IQuerySession session, NpgsqlDataSource database)
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
        if (found.InputFiles.FirstOrDefault(f => f.Name == name) is not { } file)
        {
            return Problems.NotFound($"Run '{run}' has no input file '{name}'.");
        }

        http.Response.ContentType = file.ContentType;
        http.Response.ContentLength = file.Size;
        http.Response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = Http.AsciiFileName.Of(file.Name), FileNameStar = file.Name }.ToString();
        http.Response.Headers.ETag = $"\"{file.Sha256}\"";
        await RunFileStore.CopyToAsync(database, run, RunFileStore.Input, name, http.Response.Body, http.RequestAborted);
        return Results.Empty;
    }
}

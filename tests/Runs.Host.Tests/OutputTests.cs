
namespace Runs.Host.Tests;

[Collection(RetentionCollection.Name)]
public sealed class OutputTests(RetentionHost fixture) : HostSpecification<RetentionHost>(fixture, "runner", [Scopes.RunsRead, Scopes.RunsWrite])
{
    private async Task<HttpResponseMessage> PutRaw(JsonNode run, byte[] bytes, string contentType, string? filename)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (filename is not null)
        {
            content.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = filename };
        }
        return await Client.PutAsync($"{run["uri"]}/output", content);
    }

    [Fact]
    public async Task A_single_file_round_trips_with_its_name_and_type()
    {
        var run = await Api.TriggerAsync(Token);
        var bytes = RandomNumberGenerator.GetBytes(70_000);

        var put = await PutRaw(run, bytes, "application/x-parquet", "result.parquet");

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var answer = JsonNode.Parse(await put.Content.ReadAsStringAsync())!["files"]![0]!;
        Assert.Equal(("result.parquet", 70_000), ((string)answer["name"]!, (int)answer["size"]!));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), (string)answer["sha256"]!);

        var get = await Client.GetAsync($"{run["uri"]}/output");
        Assert.Equal(bytes, await get.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/x-parquet", get.Content.Headers.ContentType!.MediaType);
        Assert.Equal("result.parquet", get.Content.Headers.ContentDisposition!.FileNameStar);
        var read = JsonNode.Parse(await Client.GetStringAsync((string)run["uri"]!))!;
        Assert.True((bool)read["has_output"]!);
        var stats = await Client.GetStringAsync($"{run["uri"]}/stats");
        Assert.Contains("has_output: true", stats);
    }

    [Fact]
    public async Task Several_files_come_back_as_one_zip()
    {
        var run = await Api.TriggerAsync(Token);
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(Encoding.UTF8.GetBytes("a,b\n1,2\n")), "files", "data.csv" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes("{\"ok\":true}")), "files", "summary.json" },
        };
        Assert.Equal(HttpStatusCode.OK, (await Client.PutAsync($"{run["uri"]}/output", form)).StatusCode);

        var get = await Client.GetAsync($"{run["uri"]}/output");
        Assert.Equal("application/zip", get.Content.Headers.ContentType!.MediaType);
        using var zip = new ZipArchive(new MemoryStream(await get.Content.ReadAsByteArrayAsync()));
        Assert.Equal(["data.csv", "summary.json"], zip.Entries.Select(e => e.FullName));
        using var reader = new StreamReader(zip.GetEntry("summary.json")!.Open());
        Assert.Equal("{\"ok\":true}", await reader.ReadToEndAsync());
    }

    [Fact]
    public async Task A_new_output_replaces_the_whole_output_and_no_output_is_204()
    {
        var run = await Api.TriggerAsync(Token);
        Assert.Equal(HttpStatusCode.NoContent, (await Client.GetAsync($"{run["uri"]}/output")).StatusCode);

        await PutRaw(run, [1, 2, 3], "application/octet-stream", "first.bin");
        await PutRaw(run, [4, 5], "text/plain", "second.txt");

        var get = await Client.GetAsync($"{run["uri"]}/output");
        Assert.Equal("second.txt", get.Content.Headers.ContentDisposition!.FileNameStar);
        Assert.Equal(new byte[] { 4, 5 }, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Output_can_be_attached_after_the_run_ended()
    {
        var run = await Api.TriggerAsync(Token);
        await Api.CommandAsync(Token, run, "cancel");
        Assert.Equal(HttpStatusCode.OK, (await PutRaw(run, [9], "application/octet-stream", "late.bin")).StatusCode);
    }

    [Fact]
    public async Task A_file_without_a_name_is_400()
    {
        var run = await Api.TriggerAsync(Token);
        var put = await PutRaw(run, [1], "application/octet-stream", null);
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Equal("application/problem+json", put.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Files_over_the_limits_are_413_and_the_old_output_stays()
    {
        var run = await Api.TriggerAsync(Token);
        await PutRaw(run, [7, 7, 7], "application/octet-stream", "keep.bin");

        var tooBig = await PutRaw(run, new byte[102_401], "application/octet-stream", "big.bin");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Equal("application/problem+json", tooBig.Content.Headers.ContentType!.MediaType);

        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(new byte[80_000]), "files", "a.bin" },
            { new ByteArrayContent(new byte[80_000]), "files", "b.bin" },
        };
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await Client.PutAsync($"{run["uri"]}/output", form)).StatusCode);

        Assert.Equal(new byte[] { 7, 7, 7 }, await (await Client.GetAsync($"{run["uri"]}/output")).Content.ReadAsByteArrayAsync());
    }
}

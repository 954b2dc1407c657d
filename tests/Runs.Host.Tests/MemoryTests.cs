
namespace Runs.Host.Tests;

/// <summary>
/// What one request costs the host in memory, measured as bytes the process allocated while it ran (the
/// collection runs alone, so they are this request's). Bounds are ratios and multiples of the body, never times.
/// </summary>
[Collection(MemoryCollection.Name)]
[Trait(OwnProcess.Trait, OwnProcess.Value)]
public sealed class MemoryTests(MemoryHost fixture, ITestOutputHelper output) : HostSpecification<MemoryHost>(fixture, "runner", [Scopes.RunsRead, Scopes.RunsWrite])
{
    private static readonly DateTimeOffset Start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Bytes the process allocated during <paramref name="request"/>, sent once beforehand so that code
    /// generated and compiled on first use is not counted.
    /// </summary>
    private async Task<long> AllocatedBy(Func<Task> request, Func<Task>? warmUp = null)
    {
        await (warmUp ?? request)();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        await request();
        return GC.GetTotalAllocatedBytes(precise: true) - before;
    }

    private Task<IScenarioResult> Post(string url, string json, int status) => Api.Scenario(s =>
    {
        s.Post.Text(json).ToUrl(url);
        s.WithRequestHeader("Content-Type", "application/json");
        s.Bearer(Token);
        s.StatusCodeShouldBe(status);
    });

    /// <summary>The reviewer's request r: 1,000 samples, each with 50 fields named by <paramref name="name"/> (about 0.9 MB).</summary>
    private static string Samples(int r, Func<int, int, string> name) => JsonSerializer.Serialize(new
    {
        samples = Enumerable.Range(0, 1000).Select(j =>
        {
            var sample = Enumerable.Range(0, 50).ToDictionary(k => name(j, k), k => (object)(1.0 + (j * k % 7)));
            sample["at"] = Start.AddSeconds(r * 1000 + j).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
            return sample;
        }),
    });

    [Fact]
    public async Task Samples_flooding_a_run_with_new_field_names_cost_no_more_than_ordinary_ones()
    {
        var ordinary = await Api.TriggerAsync(Token, "tel");
        var flooded = await Api.TriggerAsync(Token, "tel");
        var warm = await Api.TriggerAsync(Token, "tel");
        Task WarmUp(int status) => Post($"{warm["uri"]}/telemetry", status == 200 ? "{\"samples\":[{\"w\":1}]}" : "{\"samples\":[{\"w\":1e-20000}]}", status);
        var ordinaryBytes = new List<long>();
        var floodBytes = new List<long>();
        long bodyBytes = 0;

        // Four requests each, as in the review: the third takes the ordinary run past 2,000 samples (downsampled).
        for (var r = 0; r < 4; r++)
        {
            var same = Samples(r, (_, k) => $"f{k}");
            ordinaryBytes.Add(await AllocatedBy(() => Post($"{ordinary["uri"]}/telemetry", same, 200), () => WarmUp(200)));
            var fresh = Samples(r, (j, k) => $"f{r}_{j}_{k}");
            bodyBytes = Math.Max(bodyBytes, System.Text.Encoding.UTF8.GetByteCount(fresh));
            floodBytes.Add(await AllocatedBy(() => Post($"{flooded["uri"]}/telemetry", fresh, 400), () => WarmUp(400)));
        }
        output.WriteLine($"body {bodyBytes} B; ordinary requests allocated {string.Join(", ", ordinaryBytes)} B; flooding ones {string.Join(", ", floodBytes)} B");

        // A fields x samples matrix of the third flooding request alone would be 3.6 GB.
        Assert.True(floodBytes.Max() <= 1.5 * ordinaryBytes.Max(), $"flooding {floodBytes.Max()} B vs ordinary {ordinaryBytes.Max()} B");
        Assert.True(floodBytes.Max() <= 64 * bodyBytes, $"flooding {floodBytes.Max()} B for a body of {bodyBytes} B");
        var telemetry = await (await Api.Scenario(s => { s.Get.Url($"{flooded["uri"]}/telemetry"); s.Bearer(Token); })).Json();
        Assert.Empty(telemetry["samples"]!.AsArray());
        Assert.Equal(2000, (await (await Api.Scenario(s => { s.Get.Url($"{ordinary["uri"]}/telemetry"); s.Bearer(Token); })).Json())["samples"]!.AsArray().Count);
        await Api.CommandAsync(Token, flooded, "cancel");
    }

    [Fact]
    public async Task A_listing_page_costs_far_less_than_the_documents_of_its_runs()
    {
        // Runs as big as the caps allow: about 60 KB of input and 60 KB of telemetry summary each.
        var blob = new string('x', 60_000);
        for (var i = 0; i < 40; i++)
        {
            var run = await Api.TriggerAsync(Token, "big", new { input = new { blob } });
            await Post($"{run["uri"]}/telemetry", JsonSerializer.Serialize(new { summary = new { blob } }), 200);
        }
        long documentBytes;
        await using (var connection = new Npgsql.NpgsqlConnection(Fixture.ConnectionString))
        {
            await connection.OpenAsync();
            await using var size = new Npgsql.NpgsqlCommand("select sum(length(data::text)) from runs.mt_doc_run where job = 'big'", connection);
            documentBytes = (long)(await size.ExecuteScalarAsync())!;
        }

        JsonNode page = null!;
        var listing = await AllocatedBy(async () => page = await (await Api.Scenario(s => { s.Get.Url("/v1/jobs/big/runs?page_size=40"); s.Bearer(Token); })).Json());
        output.WriteLine($"40 run documents hold {documentBytes} B; listing them allocated {listing} B");

        Assert.Equal(40, (int)page["count"]!);
        Assert.True(listing < documentBytes / 4, $"listing allocated {listing} B for documents of {documentBytes} B");
    }
}

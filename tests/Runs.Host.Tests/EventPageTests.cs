
namespace Runs.Host.Tests;

/// <summary>A page of a run's events is bounded in bytes as well as in events.</summary>
[Collection(BoundsCollection.Name)]
public sealed class EventPageTests(BoundsHost fixture) : HostSpecification<BoundsHost>(fixture, "auditor", [Scopes.RunsRead, Scopes.RunsWrite])
{
    [Fact]
    public async Task A_page_past_the_byte_bound_ends_early_and_its_token_continues_without_loss_or_repeat()
    {
        var run = await Api.TriggerAsync(Token);
        const int Samples = 12;
        for (var i = 0; i < Samples; i++)
        {
            await Api.Scenario(s =>
            {
                s.Post.Json(new { summary = new { note = new string((char)('a' + i), 1500) } }).ToUrl($"{run["uri"]}/telemetry");
                s.Bearer(Token);
            });
        }

        var versions = new List<int>();
        var pages = 0;
        string? pageToken = null;
        do
        {
            var text = await (await Api.Scenario(s =>
            {
                s.Get.Url($"{run["uri"]}/events?page_size=1000" + (pageToken is null ? "" : $"&page_token={pageToken}"));
                s.Bearer(Token);
            })).ReadAsTextAsync();
            var page = JsonNode.Parse(text)!;
            var events = page["events"]!.AsArray();
            pages++;

            Assert.NotEmpty(events);
            // The page ends with the event that reaches the bound: at most one event past it.
            var largest = events.Max(e => Encoding.UTF8.GetByteCount(e!.ToJsonString()));
            Assert.True(Encoding.UTF8.GetByteCount(text) <= BoundsHost.MaxEventPageBytes + largest + 100, $"a page of {text.Length} bytes");
            versions.AddRange(events.Select(e => (int)e!["version"]!));
            pageToken = (string?)page["next_page_token"];
        }
        while (pageToken is not null);

        Assert.Equal(Enumerable.Range(1, Samples + 1), versions);
        // 13 events fit in one page by count; by bytes (about 1.5 KB each in pages of 4 KiB) they take several.
        Assert.True(pages >= (Samples * 1500) / BoundsHost.MaxEventPageBytes, $"{pages} pages");
    }
}

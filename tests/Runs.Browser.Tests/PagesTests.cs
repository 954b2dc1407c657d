using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Runs.Browser.Tests.Harness;
using static Microsoft.Playwright.Assertions;

namespace Runs.Browser.Tests;

/// <summary>
/// Every page of the dashboard, on a laptop and on a phone, over a job with a history: each renders its
/// data without an error and without the page growing wider than the screen. With RUNS_SCREENSHOTS set
/// (scripts/screenshots.sh), each is also saved as a picture for docs/ui/.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class PagesTests(DashboardHost host)
{
    private const string Job = "nightly-etl";

    private sealed record Seeded(JsonNode Failed, JsonNode Running);

    private async Task<Seeded> SeedAsync()
    {
        var start = DateTimeOffset.UtcNow.AddMinutes(-30);
        var endpoint = await host.SendAsync(HttpMethod.Post, "/v1/webhooks", new
        {
            url = "http://127.0.0.1:9/hooks/runs",
            events = new[] { "run.failed", "run.succeeded" },
            description = "Ops alerts",
        });
        for (var i = 0; i < 6; i++)
        {
            var run = await host.TriggerAsync(Job, new { trigger = "schedule", source = "cron", labels = new { env = "prod" } });
            await host.CommandAsync(run, "start", new { runner = "worker-2" });
            await host.LogAsync(run, ("info", "connecting to the warehouse"), ("info", $"extracted {12_000 + i * 500} rows"));
            if (i == 4)
            {
                await host.LogAsync(run, ("error", "constraint violation on table orders (duplicate key)"));
                await host.CommandAsync(run, "fail", new { error_summary = "load step failed: constraint violation on table orders", exit_code = 2 });
            }
            else
            {
                await host.CommandAsync(run, "succeed", new { exit_code = 0 });
            }
        }

        using var form = new MultipartFormDataContent
        {
            { new StringContent("{\"trigger\":\"api\",\"source\":\"cli\",\"labels\":{\"env\":\"prod\"}}"), "run" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes("id,amount\n1,10\n")), "files", "orders.csv" },
        };
        var failed = JsonNode.Parse(await (await host.Api.PostAsync($"/v1/jobs/{Job}/runs", form)).Content.ReadAsStringAsync())!;
        await host.CommandAsync(failed, "start", new { runner = "worker-1" });
        await host.LogAsync(failed, ("info", "connecting to the warehouse"), ("debug", "query plan: index scan on orders_pkey"),
            ("warn", "slow answer from the warehouse (2.1 s)"), ("info", "loaded 12000 rows into staging"),
            ("error", "constraint violation on table orders (duplicate key 4711)"));
        await host.SendAsync(HttpMethod.Post, $"{failed["uri"]}/telemetry", new
        {
            summary = new { rows = 12_000, phase = "load", progress = 80 },
            samples = Enumerable.Range(0, 12).Select(i => new { at = start.AddSeconds(i * 20).ToString("O"), rows = i * 1000, cpu_percent = 20 + (i * 37 % 60) }),
        });
        var output = new ByteArrayContent(Encoding.UTF8.GetBytes("table,rows\norders,12000\n"));
        output.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = "report.csv" };
        output.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        (await host.Api.PutAsync($"{failed["uri"]}/output", output)).EnsureSuccessStatusCode();
        await host.CommandAsync(failed, "fail", new { error_summary = "load step failed: constraint violation on table orders", exit_code = 2 });

        var running = await host.TriggerAsync("hourly-sync", new { source = "cli" });
        await host.CommandAsync(running, "start");
        await host.LogAsync(running, ("info", "sync started"), ("info", "fetching changes since 10:00"));
        await host.TriggerAsync("hourly-sync");

        // The receiver is not there: every run that ended above has a delivery that failed; wait for the first attempt.
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); waited.Elapsed < TimeSpan.FromSeconds(30); await Task.Delay(100))
        {
            var page = await host.SendAsync(HttpMethod.Get, $"/v1/webhooks/{endpoint["id"]}/deliveries");
            if (page["deliveries"]!.AsArray().Any(d => d!["attempts"]!.AsArray().Count > 0))
            {
                break;
            }
        }
        return new Seeded(failed, running);
    }

    [Fact]
    public async Task Every_page_renders_its_data_on_a_laptop_and_on_a_phone_without_errors()
    {
        var seeded = await SeedAsync();
        var pages = new (string Name, string Path, Func<IPage, Task> Ready)[]
        {
            ("jobs", "/ui", page => Expect(page.GetByRole(AriaRole.Link, new() { Name = Job })).ToBeVisibleAsync()),
            ("job", $"/ui/jobs/{Job}", page => Expect(page.Locator("figure.chart canvas")).ToHaveCountAsync(2)),
            ("run", $"/ui/jobs/{Job}/runs/{seeded.Failed["id"]}", async page =>
            {
                await Expect(page.Locator("ol.log > li")).ToHaveCountAsync(5);
                await Expect(page.Locator("figure.chart canvas")).ToHaveCountAsync(2);
                await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Output" })).ToContainTextAsync("report.csv");
                await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Input files" })).ToContainTextAsync("orders.csv");
                await Expect(page.Locator(".verification")).Not.ToHaveTextAsync("Checking the chain…");
            }),
            ("run-live", $"/ui/jobs/hourly-sync/runs/{seeded.Running["id"]}", page =>
                Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "live" })).ToBeVisibleAsync()),
            ("stats", "/ui/stats", page => Expect(page.Locator("figure.chart canvas")).ToHaveCountAsync(1)),
            ("search", "/ui/search?q=warehouse", page => Expect(page.Locator(".results ol.log > li").First).ToBeVisibleAsync()),
            ("webhooks", "/ui/webhooks", page => Expect(page.Locator(".attempts li").First).ToBeVisibleAsync()),
        };

        foreach (var (device, width, height, mobile) in new[] { ("laptop", 1280, 800, false), ("phone", 390, 844, true) })
        {
            await using var tab = await host.OpenAsync(width, height, mobile);
            foreach (var (name, path, ready) in pages)
            {
                await tab.GotoAsync(path);
                await ready(tab.Page);
                var overflow = await tab.Page.EvaluateAsync<int>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
                Assert.True(overflow <= 0, $"{name} on a {device} is {overflow} px wider than the screen");
                await tab.ScreenshotAsync(device == "laptop" ? name : $"{name}-{device}");
            }
            tab.ShouldHaveNoErrors();
        }

        // A download carries the token as a header, so it works from the page.
        await using (var tab = await host.OpenAsync())
        {
            await tab.GotoAsync($"/ui/jobs/{Job}/runs/{seeded.Failed["id"]}");
            var download = await tab.Page.RunAndWaitForDownloadAsync(() =>
                tab.Page.GetByRole(AriaRole.Button, new() { Name = "Download the output" }).ClickAsync());
            Assert.Equal("report.csv", download.SuggestedFilename);
            Assert.Equal("table,rows\norders,12000\n", await File.ReadAllTextAsync((await download.PathAsync())!));
            tab.ShouldHaveNoErrors();
        }
    }
}

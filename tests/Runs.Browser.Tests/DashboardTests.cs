using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Runs.Browser.Tests.Harness;
using static Microsoft.Playwright.Assertions;

namespace Runs.Browser.Tests;

/// <summary>The dashboard in a real Chromium against a real host, as someone who opened ./run.sh's link uses it.</summary>
[Collection(DashboardCollection.Name)]
public sealed partial class DashboardTests(DashboardHost host)
{
    private static string Unique(string job) => $"{job}-{Guid.NewGuid():N}"[..(job.Length + 9)];

    private async Task<JsonNode> RunningRunAsync(string job, params string[] messages)
    {
        var run = await host.TriggerAsync(job, new { source = "browser-test" });
        await host.CommandAsync(run, "start");
        if (messages.Length > 0)
        {
            await host.LogAsync(run, [.. messages.Select(m => ("info", m))]);
        }
        return run;
    }

    [Fact]
    public async Task The_link_signs_in_shows_the_jobs_and_leaves_no_token_in_the_address_bar()
    {
        var job = Unique("signin");
        var run = await host.TriggerAsync(job);
        await using var tab = await host.OpenAsync();

        await tab.GotoAsync("/ui");

        await Expect(tab.Heading).ToHaveTextAsync("Jobs");
        var row = tab.Page.GetByRole(AriaRole.Row).Filter(new() { HasText = job });
        await Expect(row).ToContainTextAsync("pending");
        await Expect(row.GetByRole(AriaRole.Link, new() { Name = (string)run["id"]! })).ToBeVisibleAsync();
        Assert.DoesNotContain("token", tab.Page.Url);
        Assert.Equal(host.Token, await tab.Page.EvaluateAsync<string>("sessionStorage.getItem('runs.token')"));

        // The tab stays signed in across a reload, and signing out forgets the token.
        await tab.Page.ReloadAsync();
        await Expect(tab.Heading).ToHaveTextAsync("Jobs");
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(tab.Heading).ToHaveTextAsync("Sign in");
        Assert.Null(await tab.Page.EvaluateAsync<string?>("sessionStorage.getItem('runs.token')"));
        tab.ShouldHaveNoErrors();
    }

    [Fact]
    public async Task The_sign_in_form_refuses_an_unknown_token_and_takes_a_good_one()
    {
        await using var tab = await host.OpenAsync();
        await tab.GotoAsync("/ui/search", signIn: false);
        await Expect(tab.Heading).ToHaveTextAsync("Sign in");

        await tab.Page.GetByLabel("API token").FillAsync("runs_not_a_token");
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(tab.Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("not accepted");

        await tab.Page.GetByLabel("API token").FillAsync(host.Token);
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(tab.Heading).ToHaveTextAsync("Search logs");
        tab.ShouldHaveNoErrors();
    }

    [Fact]
    public async Task A_job_page_lists_its_runs_by_status_word_and_takes_the_listing_filter()
    {
        var job = Unique("listing");
        var failed = await RunningRunAsync(job, "loading");
        await host.CommandAsync(failed, "fail", new { error_summary = "disk full" });
        var succeeded = await RunningRunAsync(job, "loading");
        await host.CommandAsync(succeeded, "succeed", new { exit_code = 0 });
        await using var tab = await host.OpenAsync();

        await tab.GotoAsync($"/ui/jobs/{job}");

        await Expect(tab.Heading).ToHaveTextAsync(job);
        var runs = tab.Page.GetByRole(AriaRole.Table, new() { Name = $"Runs of {job}, newest first" });
        await Expect(runs.GetByRole(AriaRole.Row)).ToHaveCountAsync(3);
        await Expect(runs.GetByRole(AriaRole.Row).Nth(1)).ToContainTextAsync("succeeded");
        await Expect(runs.GetByRole(AriaRole.Row).Nth(2)).ToContainTextAsync("failed");
        await Expect(tab.Page.Locator("figure.chart canvas").First).ToBeVisibleAsync();

        await tab.Page.GetByLabel("Filter").FillAsync("status = \"failed\"");
        await tab.Page.GetByLabel("Filter").PressAsync("Enter");
        await Expect(runs.GetByRole(AriaRole.Row)).ToHaveCountAsync(2);
        await Expect(runs.GetByRole(AriaRole.Row).Nth(1)).ToContainTextAsync((string)failed["id"]!);
        Assert.Contains("filter=status", tab.Page.Url);

        // A filter the API refuses is shown in its words, with the position of the problem.
        await tab.Page.GetByLabel("Filter").FillAsync("colour = \"red\"");
        await tab.Page.GetByLabel("Filter").PressAsync("Enter");
        await Expect(tab.Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("unknown field 'colour'");
        tab.ShouldHaveNoErrors();
    }

    [Fact]
    public async Task A_run_page_shows_a_new_line_live_and_resumes_after_a_dropped_connection_without_losing_or_repeating_lines()
    {
        var job = Unique("live");
        var run = await RunningRunAsync(job, "line one", "line two");
        await using var tab = await host.OpenAsync();
        var streams = new List<IRequest>();
        tab.Page.Request += (_, request) =>
        {
            if (request.Url.EndsWith("/log/stream", StringComparison.Ordinal))
            {
                lock (streams)
                {
                    streams.Add(request);
                }
            }
        };
        var lines = tab.Page.Locator("ol.log > li");

        await tab.GotoAsync($"/ui/jobs/{job}/runs/{run["id"]}");
        await Expect(lines).ToHaveCountAsync(2);
        await Expect(tab.Page.GetByRole(AriaRole.Status).Filter(new() { HasText = "live" })).ToBeVisibleAsync();

        await host.LogAsync(run, ("warn", "line three arrives while the page is open"));
        await Expect(lines.Nth(2)).ToContainTextAsync("line three arrives while the page is open");

        // The connection drops (the host goes away), and comes back: the page picks up where it was.
        tab.Expected = request => true;
        await host.StopAsync();
        await Expect(tab.Page.GetByRole(AriaRole.Status).Filter(new() { HasText = "reconnecting" })).ToBeVisibleAsync();
        await host.StartAsync();
        await host.LogAsync(run, ("info", "line four"), ("error", "line five"));

        await Expect(lines).ToHaveCountAsync(5);
        Assert.Equal(["1", "2", "3", "4", "5"], await tab.Page.Locator("ol.log > li .line-id").AllTextContentsAsync());
        Assert.Equal(
            ["line one", "line two", "line three arrives while the page is open", "line four", "line five"],
            await tab.Page.Locator("ol.log > li .message").AllTextContentsAsync());
        IRequest resumed;
        lock (streams)
        {
            resumed = streams.Last();
        }
        Assert.Equal("3", await resumed.HeaderValueAsync("last-event-id"));
    }

    [Fact]
    public async Task A_run_page_stops_following_when_the_run_ends_and_shows_how_it_ended()
    {
        var job = Unique("ending");
        var run = await RunningRunAsync(job, "working");
        await using var tab = await host.OpenAsync();
        await tab.GotoAsync($"/ui/jobs/{job}/runs/{run["id"]}");
        await Expect(tab.Page.Locator("ol.log > li")).ToHaveCountAsync(1);

        await host.LogAsync(run, ("error", "out of memory"));
        await host.CommandAsync(run, "fail", new { error_summary = "the worker ran out of memory", exit_code = 137 });

        await Expect(tab.Page.GetByRole(AriaRole.Status).Filter(new() { HasText = "the run has ended" })).ToBeVisibleAsync();
        await Expect(tab.Heading).ToContainTextAsync("failed");
        await Expect(tab.Page.Locator(".summary")).ToContainTextAsync("the worker ran out of memory");
        await Expect(tab.Page.Locator(".summary")).ToContainTextAsync("137");
        await Expect(tab.Page.Locator("ol.log > li")).ToHaveCountAsync(2);
        await Expect(tab.Page.GetByRole(AriaRole.Table, new() { Name = "Event history, oldest first" })).ToContainTextAsync("Failed");
        tab.ShouldHaveNoErrors();
    }

    [Fact]
    public async Task Search_finds_a_line_in_any_letter_case_and_leads_to_it_in_its_run()
    {
        var job = Unique("search");
        var run = await RunningRunAsync(job, "starting", "Checksum MISMATCH in block 7", "done");
        await using var tab = await host.OpenAsync();
        await tab.GotoAsync("/ui/search");

        await tab.Page.GetByLabel("Text").FillAsync("checksum mismatch");
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();

        var match = tab.Page.Locator(".results ol.log > li");
        await Expect(match).ToHaveCountAsync(1);
        await Expect(match).ToContainTextAsync("Checksum MISMATCH in block 7");
        await Expect(match.Locator("mark")).ToHaveTextAsync("Checksum MISMATCH");
        await match.GetByRole(AriaRole.Link).ClickAsync();

        await Expect(tab.Heading).ToContainTextAsync((string)run["id"]!);
        await Expect(tab.Page.Locator("ol.log > li.target")).ToContainTextAsync("Checksum MISMATCH in block 7");
        tab.ShouldHaveNoErrors();
    }

    [Fact]
    public async Task The_keyboard_alone_reaches_a_job_and_focus_is_always_visible()
    {
        var job = Unique("keys");
        await host.TriggerAsync(job);
        await using var tab = await host.OpenAsync();
        await tab.GotoAsync("/ui");
        await Expect(tab.Page.GetByRole(AriaRole.Link, new() { Name = job })).ToBeVisibleAsync();

        string? focused = null;
        for (var presses = 0; presses < 200 && focused != job; presses++)
        {
            await tab.Page.Keyboard.PressAsync("Tab");
            focused = await tab.Page.EvaluateAsync<string?>("document.activeElement?.textContent");
            var outline = await tab.Page.EvaluateAsync<string>("getComputedStyle(document.activeElement).outlineStyle");
            Assert.NotEqual("none", outline);
        }
        Assert.Equal(job, focused);
        await tab.Page.Keyboard.PressAsync("Enter");

        await Expect(tab.Heading).ToHaveTextAsync(job);
        await Expect(tab.Heading).ToBeFocusedAsync();
        tab.ShouldHaveNoErrors();
    }

    [Fact]
    public async Task Verification_that_the_server_does_not_offer_yet_is_said_so_and_the_page_carries_on()
    {
        var job = Unique("verify");
        var run = await RunningRunAsync(job, "one line");
        await using var tab = await host.OpenAsync();
        var verify = await host.Api.GetAsync($"{run["uri"]}/verify");

        await tab.GotoAsync($"/ui/jobs/{job}/runs/{run["id"]}");

        var verification = tab.Page.Locator(".verification");
        if (verify.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            await Expect(verification).ToHaveTextAsync("Verification not available on this server.");
        }
        else
        {
            await Expect(verification).ToHaveTextAsync(new Regex("^✓ Verified: 3 events, 1 log lines and 0 files checked against the hash chain on [^\\[\\]]+\\.$"));
        }
        await Expect(tab.Page.Locator("ol.log > li")).ToHaveCountAsync(1);
        tab.ShouldHaveNoErrors();
    }
}

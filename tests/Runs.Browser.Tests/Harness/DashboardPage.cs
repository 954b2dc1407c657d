
namespace Runs.Browser.Tests.Harness;

/// <summary>
/// One browser tab on the dashboard. It records what a user would call broken: script errors, messages
/// the page logs as errors, the dashboard's own files failing to load, and any answer of 500 or more.
/// The browser's own line for an API answer the page handles (a 404 it shows as "not available", a 403
/// it explains) is not an error of the page.
/// </summary>
public sealed class DashboardPage(IBrowserContext context, IPage page, DashboardHost host) : IAsyncDisposable
{
    private readonly List<string> _problems = [];
    private bool _watching;

    public IPage Page => page;

    /// <summary>Where screenshots go when asked for (scripts/screenshots.sh sets it); null otherwise.</summary>
    public static string? ScreenshotFolder => Environment.GetEnvironmentVariable("RUNS_SCREENSHOTS") is { Length: > 0 } folder ? folder : null;

    private void Watch()
    {
        if (_watching)
        {
            return;
        }
        _watching = true;
        page.PageError += (_, error) => Note($"script error: {error}");
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !IsHandledApiAnswer(message))
            {
                Note($"console error: {message.Text} ({message.Location})");
            }
        };
        page.Response += (_, response) =>
        {
            if (response.Status >= 500 || (response.Status >= 400 && new Uri(response.Url).AbsolutePath.StartsWith("/ui/", StringComparison.Ordinal)))
            {
                Note($"{response.Status} for {response.Request.Method} {response.Url}");
            }
        };
        page.RequestFailed += (_, request) =>
        {
            // The page cancels what it no longer needs (leaving a run page ends its log stream).
            if (request.Failure != "net::ERR_ABORTED" && !Expected(request))
            {
                Note($"request failed: {request.Method} {request.Url}: {request.Failure}");
            }
        };
    }

    /// <summary>Requests that may fail without anything being wrong: those a test cut off itself.</summary>
    public Func<IRequest, bool> Expected { get; set; } = _ => false;

    private static bool IsHandledApiAnswer(IConsoleMessage message) =>
        message.Text.StartsWith("Failed to load resource: the server responded with a status of 4", StringComparison.Ordinal)
        && new Uri(message.Location).AbsolutePath.StartsWith("/v1/", StringComparison.Ordinal);

    private void Note(string problem)
    {
        lock (_problems)
        {
            _problems.Add(problem);
        }
    }

    /// <summary>Opens a dashboard path, signed in by the link (<c>#token=</c>) unless told otherwise.</summary>
    public async Task GotoAsync(string path, bool signIn = true)
    {
        Watch();
        await page.GotoAsync(signIn ? $"{path}#token={Uri.EscapeDataString(host.Token)}" : path);
    }

    public ILocator Heading => page.Locator("main h1");

    /// <summary>Nothing went wrong in this tab so far.</summary>
    public void ShouldHaveNoErrors()
    {
        lock (_problems)
        {
            Assert.Empty(_problems);
        }
    }

    /// <summary>A full-page picture into the screenshot folder, when one was asked for.</summary>
    public async Task ScreenshotAsync(string name)
    {
        if (ScreenshotFolder is not { } folder)
        {
            return;
        }
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, $"{name}.png"), FullPage = true, Animations = ScreenshotAnimations.Disabled });
    }

    public async ValueTask DisposeAsync() => await context.CloseAsync();
}

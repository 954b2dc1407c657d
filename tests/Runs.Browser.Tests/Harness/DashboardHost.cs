using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Runs.Browser.Tests.Harness;

/// <summary>
/// The service as a newcomer runs it — <c>dotnet Runs.Host.dll</c> on a real port (Kestrel), on a fresh
/// database, with an admin token made by its own <c>tokens create</c> command — and Debian's Chromium,
/// driven by Playwright. One of each for the whole test run.
/// </summary>
public sealed class DashboardHost : IAsyncLifetime
{
    private static readonly string HostAssembly = typeof(Program).Assembly.Location;
    private readonly string _secretKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private Process? _host;
    private IPlaywright? _playwright;

    public string ConnectionString { get; private set; } = "";
    public string Url { get; private set; } = "";
    public string Token { get; private set; } = "";
    public IBrowser Browser { get; private set; } = null!;
    public HttpClient Api { get; private set; } = null!;

    /// <summary>Where Chromium is: RUNS_CHROMIUM, else Debian's package (./test.sh installs it when missing).</summary>
    public static string ChromiumPath => Environment.GetEnvironmentVariable("RUNS_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"No Chromium at {ChromiumPath}: run ./test.sh (it installs Debian's chromium package) or set RUNS_CHROMIUM.");
        }
        ConnectionString = await Runs.Tests.TestDatabase.EnsureAsync("browser");
        Url = $"http://127.0.0.1:{FreePort()}";

        // As ./run.sh does it: the schema, then an admin token from the command line, then the service.
        var applied = await RunCommandAsync("db-apply");
        if (applied.Exit != 0)
        {
            throw new InvalidOperationException($"db-apply failed ({applied.Exit}): {applied.Output}{applied.Errors}");
        }
        var (exit, output, errors) = await RunCommandAsync("tokens", "create", "--name", "browser-tests",
            "--scopes", "admin,runs:read,runs:write,webhooks:manage", "--jobs", "*");
        Token = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
        if (exit != 0 || !Token.StartsWith("runs_", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"tokens create failed ({exit}): {output}{errors}");
        }
        await StartAsync();

        Api = new HttpClient { BaseAddress = new Uri(Url) };
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // As root in a sandbox without user namespaces; no calls to Google's services on a closed network.
            ChromiumSandbox = false,
            Args = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        _playwright?.Dispose();
        Api?.Dispose();
        await StopAsync();
    }

    private Dictionary<string, string> Settings() => new()
    {
        ["ConnectionStrings__Runs"] = ConnectionString,
        ["ASPNETCORE_ENVIRONMENT"] = "Development",
        ["ASPNETCORE_URLS"] = Url,
        ["Runs__Secrets__CurrentKeyId"] = "browser",
        ["Runs__Secrets__Keys__browser"] = _secretKey,
        ["Logging__LogLevel__Default"] = "Warning",
    };

    private ProcessStartInfo StartInfo(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [HostAssembly, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in Settings())
        {
            start.Environment[key] = value;
        }
        return start;
    }

    private async Task<(int Exit, string Output, string Errors)> RunCommandAsync(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await errors);
    }

    /// <summary>Starts the host and waits until it answers <c>/health/ready</c>.</summary>
    public async Task StartAsync()
    {
        _host = Process.Start(StartInfo())!;
        // Drained so the host never blocks on a full pipe; kept for the message if it does not come up.
        var log = new StringBuilder();
        _host.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        _host.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        _host.BeginOutputReadLine();
        _host.BeginErrorReadLine();

        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (_host.HasExited)
            {
                break;
            }
            try
            {
                if ((await probe.GetAsync($"{Url}/health/ready")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(200);
        }
        lock (log)
        {
            throw new InvalidOperationException($"The host did not become ready at {Url}:\n{log}");
        }
    }

    /// <summary>Ends the host process at once, dropping every connection it holds.</summary>
    public async Task StopAsync()
    {
        if (_host is { HasExited: false })
        {
            _host.Kill(entireProcessTree: true);
            await _host.WaitForExitAsync();
        }
        _host?.Dispose();
        _host = null;
    }

    /// <summary>A page in a context of its own (its own session storage), recording what went wrong in it.</summary>
    public async Task<DashboardPage> OpenAsync(int width = 1280, int height = 900, bool mobile = false)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Url,
            ViewportSize = new ViewportSize { Width = width, Height = height },
            IsMobile = mobile,
            HasTouch = mobile,
            Locale = "en-GB",
            TimezoneId = "Europe/Berlin",
        });
        return new DashboardPage(context, await context.NewPageAsync(), this);
    }

    // The API calls a runner makes, for the "given" states.

    public async Task<JsonNode> TriggerAsync(string job, object? body = null) =>
        await SendAsync(HttpMethod.Post, $"/v1/jobs/{job}/runs", body ?? new { });

    public async Task<JsonNode> SendAsync(HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(System.Text.Json.JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        }
        using var response = await Api.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
        }
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    public Task<JsonNode> CommandAsync(JsonNode run, string action, object? body = null) =>
        SendAsync(HttpMethod.Post, $"{run["uri"]}/{action}", body ?? new { });

    public Task<JsonNode> LogAsync(JsonNode run, params (string Level, string Message)[] lines) =>
        SendAsync(HttpMethod.Post, $"{run["uri"]}/log", new { lines = lines.Select(l => new { level = l.Level, message = l.Message }) });

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardHost>
{
    public const string Name = "dashboard";
}

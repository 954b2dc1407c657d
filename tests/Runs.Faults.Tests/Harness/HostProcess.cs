using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Runs.Faults.Tests.Harness;

/// <summary>
/// The service as operators run it: the Host project's build output started with <c>dotnet Runs.Host.dll</c>
/// in the Production environment on a port of its own, in Wolverine's normal (balanced, several-node) mode.
/// </summary>
public sealed partial class HostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly ConcurrentQueue<string> _failures = new();
    private bool _inFailure;

    /// <summary><c>FAULTS_VERBOSE=1</c>: hosts log Wolverine's node, leadership and recovery steps, for a failure's diagnosis.</summary>
    public static bool Verbose => Environment.GetEnvironmentVariable("FAULTS_VERBOSE") == "1";

    public string Name { get; }
    public string Url { get; }
    public int Pid => _process.Id;
    public DateTimeOffset StartedAt { get; }
    public bool HasExited => _process.HasExited;

    private HostProcess(string name, string url, Process process, DateTimeOffset startedAt)
    {
        Name = name;
        Url = url;
        _process = process;
        StartedAt = startedAt;
    }

    public static HostProcess Start(string name, IReadOnlyDictionary<string, string> settings, int? port = null)
    {
        var url = $"http://127.0.0.1:{port ?? FreePort()}";
        var start = new ProcessStartInfo("dotnet", [HostAssembly()])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(HostAssembly())!,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = url;
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ";
        start.Environment["Logging__Console__FormatterOptions__UseUtcTimestamp"] = "true";
        start.Environment["Logging__LogLevel__Wolverine"] = Verbose ? "Information" : "Warning";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }
        var startedAt = DateTimeOffset.UtcNow;
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        var host = new HostProcess(name, url, process, startedAt);
        process.OutputDataReceived += (_, e) => host.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => host.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        _output.Enqueue(line);
        while (_output.Count > 400 && _output.TryDequeue(out _))
        {
        }
        // An entry's first line carries its level; the exception follows on indented lines. Errors are kept
        // apart from the rolling output, so a 500 seen by the load can be explained however long the run.
        if (EntryStart().Match(line) is { Success: true } entry)
        {
            _inFailure = entry.Groups[1].Value is "fail" or "crit";
        }
        if (_inFailure && _failures.Count < 4000)
        {
            _failures.Enqueue(line);
        }
    }

    [GeneratedRegex(@"^\d\d:\d\d:\d\d\.\d{3} (\w{4}): ")]
    private static partial Regex EntryStart();

    /// <summary>What the process logged as errors (the first ones), for a failure message.</summary>
    public string Failures => string.Join('\n', _failures);

    /// <summary>The last lines the process wrote, for a failure message.</summary>
    public string Output => string.Join('\n', _output.TakeLast(200));

    /// <summary>Polls <c>/health/ready</c> until it answers 200; answers when that was, or fails with the host's output.</summary>
    public async Task<DateTimeOffset> WaitUntilReadyAsync(TimeSpan deadline)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var until = DateTime.UtcNow + deadline;
        while (DateTime.UtcNow < until)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Host {Name} exited with {_process.ExitCode} before it was ready:\n{Output}");
            }
            try
            {
                using var answer = await http.GetAsync(Url + "/health/ready");
                if (answer.StatusCode == HttpStatusCode.OK)
                {
                    return DateTimeOffset.UtcNow;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Host {Name} was not ready within {deadline}:\n{Output}");
    }

    /// <summary>kill -9: no shutdown code runs, connections drop, whatever was in memory is gone.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as an orchestrator stops a container.</summary>
    public void Terminate()
    {
        if (Kill(_process.Id, 15) != 0)
        {
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public async Task<bool> WaitForExitAsync(TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public int ExitCode => _process.ExitCode;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>src/Runs.Host's build output for this test build's configuration (the project reference builds it first).</summary>
    public static string HostAssembly()
    {
        var configuration = typeof(HostProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Runs.sln")))
            {
                var path = Path.Combine(directory.FullName, "src", "Runs.Host", "bin", configuration, "net10.0", "Runs.Host.dll");
                return File.Exists(path) ? path : throw new FileNotFoundException($"The host is not built at {path}.");
            }
        }
        throw new DirectoryNotFoundException($"No Runs.sln above {AppContext.BaseDirectory}.");
    }
}

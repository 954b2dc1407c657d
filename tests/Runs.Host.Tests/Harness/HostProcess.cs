
namespace Runs.Host.Tests.Harness;

/// <summary>The host's command line as a user runs it: <c>dotnet Runs.Host.dll &lt;command&gt;</c>, in a process of its own.</summary>
public static class HostProcess
{
    /// <summary>The checkpoint key every command-line run is given.</summary>
    public static readonly string SigningKeyPem = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256).ExportPkcs8PrivateKeyPem();

    /// <summary>
    /// Starts the service with these settings, expecting it to refuse: gives what it wrote. A service that did
    /// start would run until stopped, so it is given up on (and the test fails) rather than hang the suite.
    /// </summary>
    public static async Task<string> RefusalToStartAsync(string connectionString, IDictionary<string, string?> settings)
    {
        var start = RunAsync(connectionString, settings, "run");
        Assert.Same(start, await Task.WhenAny(start, Task.Delay(TimeSpan.FromMinutes(2))));
        var (exit, output, errors) = await start;
        Assert.NotEqual(0, exit);
        return output + errors;
    }

    /// <summary>The environment every command-line run is given: the database, development keys, the Development environment.</summary>
    public static IReadOnlyDictionary<string, string?> CommandEnvironment(string connectionString) => new Dictionary<string, string?>
    {
        ["ConnectionStrings__Runs"] = connectionString,
        ["Runs__Secrets__CurrentKeyId"] = "cli",
        ["Runs__Secrets__Keys__cli"] = Convert.ToBase64String(new byte[32]),
        ["Runs__Ledger__CurrentSigningKeyId"] = "cli",
        ["Runs__Ledger__SigningKeys__cli"] = SigningKeyPem,
        ["ASPNETCORE_ENVIRONMENT"] = "Development",
    };

    public static async Task<(int Exit, string Output, string Errors)> RunAsync(
        string connectionString, IDictionary<string, string?>? settings, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [typeof(Program).Assembly.Location, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // The process inherits this one's environment, which an in-process command changes for its time.
        using var process = await HostCommand.BetweenCommandsAsync(() =>
        {
            // A null setting is one the process does not have at all.
            foreach (var (key, value) in CommandEnvironment(connectionString).Concat(settings ?? new Dictionary<string, string?>()))
            {
                start.Environment[key] = value;
            }
            return Task.FromResult(Process.Start(start)!);
        });
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await errors);
    }
}

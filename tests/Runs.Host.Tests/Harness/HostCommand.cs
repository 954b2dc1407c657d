
namespace Runs.Host.Tests.Harness;

/// <summary>
/// The host's command line run in this process: the same entry point and environment as
/// <c>dotnet Runs.Host.dll &lt;command&gt;</c> (<see cref="HostProcess"/>), what it writes captured, without a
/// process start of its own. A process compiles the runtime's and libraries' code afresh each time (about 2 s of
/// CPU); here it is compiled once for every command. Tests about the process itself (a start that must be
/// refused, a user's home folder, the Production environment) start one. What only a process's first command
/// shows is not seen here (JasperFx's one-time notices, console colours chosen for a terminal), and a command
/// must write through <see cref="Console"/> to be captured.
/// </summary>
public static class HostCommand
{
    // The environment is the process's, so commands take turns; each takes a fraction of a second. A host built
    // meanwhile would read a command's settings, and a test host runs the same entry point, which serves only
    // while the process-wide JasperFxEnvironment.AutoStartHost is set (Alba sets it), and that flag would make a
    // command start the whole service. So hosts are built beside each other (a permit each), and a command runs
    // holding every permit.
    private const int Permits = 64;
    private static readonly SemaphoreSlim Turn = new(1, 1);
    private static readonly SemaphoreSlim BuildPermits = new(Permits, Permits);

    // A hang guard, not an expectation: a command that never ends would hold every permit and stop the suite.
    private static readonly TimeSpan MaxCommandTime = TimeSpan.FromMinutes(2);

    private static readonly AsyncLocal<Capture?> Current = new();

    private static readonly System.Reflection.MethodInfo EntryPoint = typeof(Program).Assembly.EntryPoint!;

    static HostCommand()
    {
        // Whatever a command writes to the console, directly or through a logger's thread (which inherits the
        // command's execution context), goes to that command's capture; everything else where it went before.
        Console.SetOut(new Routed(Console.Out, capture => capture.Output));
        Console.SetError(new Routed(Console.Error, capture => capture.Errors));
    }

    /// <summary>Runs the command <paramref name="args"/> names against this database, with these extra settings (environment variable names).</summary>
    public static async Task<(int Exit, string Output, string Errors)> RunAsync(
        string connectionString, IReadOnlyDictionary<string, string?>? settings, params string[] args)
    {
        // Test databases are named after the one the suite was given, which this replaces for the command's time.
        _ = TestDatabase.Baseline;
        var environment = new Dictionary<string, string?>(HostProcess.CommandEnvironment(connectionString))
        {
            // What `dotnet Runs.Host.dll` takes from the assembly it starts: here the entry assembly is the test runner.
            ["ASPNETCORE_APPLICATIONNAME"] = typeof(Program).Assembly.GetName().Name!,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            environment[key] = value;
        }

        await Turn.WaitAsync();
        for (var i = 0; i < Permits; i++)
        {
            await BuildPermits.WaitAsync();
        }
        JasperFx.CommandLine.JasperFxEnvironment.AutoStartHost = false;
        var before = environment.Keys.ToDictionary(key => key, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var (key, value) in environment)
            {
                Environment.SetEnvironmentVariable(key, value);
            }
            var capture = new Capture();
            var exit = await Task.Run(() =>
            {
                Current.Value = capture;
                try
                {
                    // The compiler's synchronous Main, which waits for the top-level statements.
                    return (int)EntryPoint.Invoke(null, [args])!;
                }
                catch (Exception e)
                {
                    // What the runtime does with an exception nothing caught: it says so on stderr and aborts (SIGABRT).
                    Console.Error.WriteLine($"Unhandled exception. {(e as System.Reflection.TargetInvocationException)?.InnerException ?? e}");
                    return 134;
                }
            }).WaitAsync(MaxCommandTime);
            var (output, errors) = capture.Text();
            return (exit, output, errors);
        }
        finally
        {
            foreach (var (key, value) in before)
            {
                Environment.SetEnvironmentVariable(key, value);
            }
            BuildPermits.Release(Permits);
            Turn.Release();
        }
    }

    /// <summary>Builds a host (<c>AlbaHost.For</c>) or starts a process, which read this environment, while no command runs.</summary>
    public static async Task<T> BetweenCommandsAsync<T>(Func<Task<T>> build)
    {
        await BuildPermits.WaitAsync();
        try
        {
            return await build();
        }
        finally
        {
            BuildPermits.Release();
        }
    }

    private sealed class Capture
    {
        private readonly StringWriter _output = new();
        private readonly StringWriter _errors = new();

        public Capture()
        {
            Output = TextWriter.Synchronized(_output);
            Errors = TextWriter.Synchronized(_errors);
        }

        // The command's thread and its loggers' write at once.
        public TextWriter Output { get; }

        public TextWriter Errors { get; }

        public (string Output, string Errors) Text()
        {
            lock (Output)
            {
                lock (Errors)
                {
                    return (_output.ToString(), _errors.ToString());
                }
            }
        }
    }

    private sealed class Routed(TextWriter original, Func<Capture, TextWriter> stream) : TextWriter
    {
        private TextWriter Target => Current.Value is { } capture ? stream(capture) : original;

        public override Encoding Encoding => original.Encoding;

        public override void Write(char value) => Target.Write(value);

        public override void Write(string? value) => Target.Write(value);

        public override void Write(char[] buffer, int index, int count) => Target.Write(buffer, index, count);

        public override void WriteLine(string? value) => Target.WriteLine(value);

        public override void Flush() => Target.Flush();
    }
}

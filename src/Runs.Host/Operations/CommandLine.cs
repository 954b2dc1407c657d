using Spectre.Console;

// Commands (tokens, retention, ledger, export) are discovered in this assembly.
[assembly: JasperFx.JasperFxAssembly]

namespace Runs.Host.Operations;

/// <summary>
/// The JasperFx command line as the README documents it: <c>&lt;command&gt; --help</c> works, and the output is
/// what the command prints, without the framework's discovery chatter.
/// </summary>
public static class CommandLine
{
    private static readonly string[] HelpFlags = ["--help", "-h", "-?"];

    // JasperFx prints these for every command; they say nothing a user of this tool can act on.
    private static readonly string[] Chatter =
    [
        "Cannot override services when the IHost is already constructed",
        "Cannot override host configuration when the IHost is already constructed",
        "Cannot override app configuration when the IHost is already constructed",
    ];
    // JasperFx also ends its command discovery with an empty line, before the command has said anything;
    // a command whose output is data (export's NDJSON) must begin with that data.

    /// <summary>Runs the command <paramref name="args"/> names (the service itself when none).</summary>
    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        // A test server (Alba, WebApplicationFactory) sets JasperFx's process-wide AutoStartHost and passes its
        // settings as arguments: it wants the service, whatever they say. Read once, here: JasperFx reads the flag
        // again after the host has started, and by then a command run in the same process may have cleared it.
        if (JasperFx.CommandLine.JasperFxEnvironment.AutoStartHost)
        {
            await app.RunAsync();
            return 0;
        }
        Quiet();
        // JasperFx spells help `help <command>` and answers it with exit code 1; `<command> --help` is what
        // people type, and asking for help is not a failure.
        if (args.Length > 0 && args.Skip(args[0].StartsWith('-') ? 0 : 1).Any(a => HelpFlags.Contains(a)))
        {
            string[] help = args[0].StartsWith('-') ? ["help"] : ["help", args[0]];
            await app.RunJasperFxCommands(help);
            // Help never uses the host, so nothing else disposes it (its configuration watches files).
            await app.DisposeAsync();
            return 0;
        }
        return await app.RunJasperFxCommands(args);
    }

    private static void Quiet()
    {
        // The factory announces "Searching '<assembly>' for commands" until a process-wide latch is set,
        // and applying an empty set of extensions is what sets it.
        new CommandFactory().ApplyExtensions(new ServiceCollection());
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(new ChatterFilter(Console.Out)),
            // Colours and cursor movement for a terminal; plain text for pipes, files and tests.
            Ansi = Console.IsOutputRedirected ? AnsiSupport.No : AnsiSupport.Detect,
            Interactive = Console.IsOutputRedirected ? InteractionSupport.No : InteractionSupport.Detect,
        });
    }

    private sealed class ChatterFilter(TextWriter inner) : TextWriter
    {
        private readonly System.Text.StringBuilder _line = new();
        private bool _started;

        public override System.Text.Encoding Encoding => inner.Encoding;

        public override void Write(char value)
        {
            _line.Append(value);
            if (value == '\n')
            {
                Flush();
            }
        }

        public override void Write(string? value)
        {
            foreach (var c in value ?? "")
            {
                Write(c);
            }
        }

        public override void Flush()
        {
            var line = _line.ToString();
            // A partial line that may still become chatter waits for the rest of it.
            if (!line.EndsWith('\n') && Chatter.Any(c => c.StartsWith(line.TrimStart(), StringComparison.Ordinal)))
            {
                return;
            }
            _line.Clear();
            if (!_started && line.Trim().Length == 0)
            {
                return;
            }
            if (!Chatter.Any(c => line.Contains(c, StringComparison.Ordinal)))
            {
                _started |= line.Length > 0;
                inner.Write(line);
            }
            inner.Flush();
        }
    }
}

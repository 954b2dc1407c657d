
namespace Runs.Host.Runs.Logs;

/// <summary>A log line as clients read it.</summary>
public sealed record LogLineView(long Id, DateTimeOffset At, string Level, string Message)
{
    public static LogLineView From(LogLine line) => new(line.Id, line.At, line.Level.Name(), line.Message);

    /// <summary><c>&lt;at&gt; &lt;LEVEL&gt; &lt;message&gt;</c>.</summary>
    public static string Text(LogLine line) =>
        $"{Rfc3339Converter.Text(line.At)} {line.Level.Name().ToUpperInvariant()} {line.Message}\n";
}

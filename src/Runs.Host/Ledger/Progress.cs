using Spectre.Console;

namespace Runs.Host.Ledger;

/// <summary>
/// A progress bar on standard error, so standard output keeps only what a command reports (problems, NDJSON).
/// On a terminal it redraws in place; redirected, it prints a plain line at each quarter of a long task and
/// one when the task is done.
/// </summary>
public static class ProgressBar
{
    public static async Task<T> RunAsync<T>(string title, double total, Func<Action<double>, Task<T>> work)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Error),
            Ansi = Console.IsErrorRedirected ? AnsiSupport.No : AnsiSupport.Detect,
            Interactive = Console.IsErrorRedirected ? InteractionSupport.No : InteractionSupport.Detect,
        });
        T result = default!;
        var done = 0.0;
        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(title, maxValue: Math.Max(total, 1));
                result = await work(value => task.Value = done = value);
                task.Value = task.MaxValue;
            });
        if (Console.IsErrorRedirected)
        {
            Console.Error.WriteLine($"{title}: done ({done:0} of {total:0}).");
        }
        return result;
    }
}

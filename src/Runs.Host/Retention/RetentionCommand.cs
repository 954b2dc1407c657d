
namespace Runs.Host.Retention;

// Lower-case so the command line reads `retention sweep`.
#pragma warning disable IDE1006
public enum RetentionAction
{
    sweep,
    show,
}
#pragma warning restore IDE1006

public sealed class RetentionInput : NetCoreInput
{
    [Description("sweep: purge what has expired; show: a run's retention")]
    public RetentionAction Action { get; set; }

    [Description("show: the run id")]
    public string? Run { get; set; }

    [Description("sweep: list what would be purged, change nothing")]
    public bool DryRunFlag { get; set; }
}

[Description("Purge expired logs, input and output now (sweep, optionally with --dry-run), or show a run's retention (show <run>).", Name = "retention")]
public sealed class RetentionCommand : JasperFxAsyncCommand<RetentionInput>
{
    public RetentionCommand()
    {
        Usage("Sweep").Arguments(x => x.Action).ValidFlags(x => x.DryRunFlag);
        Usage("Show a run").Arguments(x => x.Action, x => x.Run!);
    }

    public override async Task<bool> Execute(RetentionInput input)
    {
        using var host = input.BuildHost();
        var services = host.Services;
        var sweep = services.GetRequiredService<RetentionSweep>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();

        if (input.Action == RetentionAction.show)
        {
            await using var session = services.GetRequiredService<IDocumentStore>().QuerySession();
            if (!RunId.IsValid(input.Run) || await session.LoadAsync<Run>(input.Run!) is not { } run)
            {
                Console.Error.WriteLine($"error: no run '{input.Run}'.");
                return false;
            }
            var policy = services.GetRequiredService<RetentionPolicy>();
            Console.WriteLine($"run:        {run.Id} ({run.Job}, {run.Status.Name()})");
            Console.WriteLine($"policy:     {(run.Status.IsTerminal() ? policy.For(run.Job, run.Status).Policy : "none until the run ends")}");
            Console.WriteLine($"expires_on: {(policy.ExpiresOn(run) is { } e ? Rfc3339Converter.Text(e) : "-")}");
            Console.WriteLine($"expired:    {(run.ExpiredOn is { } x ? $"yes, on {Rfc3339Converter.Text(x)}" : "no")}");
            return true;
        }

        var due = await sweep.DueAsync(now, CancellationToken.None);
        foreach (var run in due)
        {
            Console.WriteLine($"{run.Id}  {run.Job,-24} {run.Status,-10} expired {Rfc3339Converter.Text(run.ExpiresOn)}  ({run.Policy})");
        }
        if (input.DryRunFlag)
        {
            Console.WriteLine($"{due.Count} runs would be purged (dry run: nothing changed).");
            return true;
        }
        var purged = await sweep.SweepAsync();
        Console.WriteLine($"{purged.Count} runs purged.");
        return true;
    }
}

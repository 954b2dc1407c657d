
namespace Runs.Host.Ledger;

public sealed class VerifyInput : NetCoreInput
{
    [Description("Only the runs of this job")]
    public string? JobFlag { get; set; }

    [Description("Only this run")]
    public string? RunFlag { get; set; }
}

[Description("Check runs' chains and content (all runs, a job's, or one): one line per problem; exit code 1 when any was found.", Name = "verify")]
public sealed class VerifyCommand : JasperFxAsyncCommand<VerifyInput>
{
    public VerifyCommand() => Usage("Verify").ValidFlags(x => x.JobFlag!, x => x.RunFlag!);

    public override async Task<bool> Execute(VerifyInput input)
    {
        using var host = input.BuildHost();
        var database = host.Services.GetRequiredService<NpgsqlDataSource>();
        List<string> runs;
        if (input.RunFlag is { } run)
        {
            await using var session = host.Services.GetRequiredService<IDocumentStore>().QuerySession();
            var known = input.JobFlag is { } job
                ? RunId.IsValid(run) && (await session.LoadAsync<Run>(run))?.Job == job
                : await StoredRunAudit.IsKnownAsync(database, run, CancellationToken.None);
            if (!known)
            {
                Console.Error.WriteLine($"error: no run '{run}'{(input.JobFlag is null ? "" : $" in job '{input.JobFlag}'")}.");
                return false;
            }
            runs = [run];
        }
        else
        {
            runs = input.JobFlag is { } job
                ? await StoredRunAudit.JobRunsAsync(database, job, CancellationToken.None)
                : await StoredRunAudit.AllRunsAsync(database, CancellationToken.None);
        }

        var problems = await ProgressBar.RunAsync("verifying runs", runs.Count, async progress =>
        {
            var found = new List<LedgerProblem>();
            var done = 0;
            await foreach (var verdict in StoredRunAudit.VerifyAsync(database, runs))
            {
                found.AddRange(verdict.Problems);
                progress(++done);
            }
            return found;
        });
        foreach (var problem in problems)
        {
            Console.WriteLine(LedgerCommands.Line(problem));
        }
        Console.Error.WriteLine($"{runs.Count} runs checked: {(problems.Count == 0 ? "every one verified" : $"{problems.Count} problem{(problems.Count == 1 ? "" : "s")}")}.");
        return problems.Count == 0;
    }
}

// Lower-case so the command line reads `ledger checkpoint`.
#pragma warning disable IDE1006
public enum LedgerAction
{
    checkpoint,
    verify,
    chain,
}
#pragma warning restore IDE1006

public sealed class LedgerInput : NetCoreInput
{
    [Description("checkpoint: write a checkpoint now; verify: check the store against the newest checkpoint; chain: link events written before the ledger chained them")]
    public LedgerAction Action { get; set; }
}

[Description("Ledger-wide: write a checkpoint now (checkpoint), check the store against the newest (verify), chain runs from before the ledger (chain).", Name = "ledger")]
public sealed class LedgerCommand : JasperFxAsyncCommand<LedgerInput>
{
    public LedgerCommand() => Usage("Ledger").Arguments(x => x.Action);

    public override async Task<bool> Execute(LedgerInput input)
    {
        using var host = input.BuildHost();
        return input.Action switch
        {
            LedgerAction.checkpoint => await LedgerCommands.CheckpointAsync(host.Services),
            LedgerAction.verify => await LedgerCommands.VerifyLedgerAsync(host.Services),
            _ => await LedgerCommands.ChainAsync(host.Services),
        };
    }
}

[Description("Write a ledger checkpoint now (the same as `ledger checkpoint`).", Name = "ledger-checkpoint")]
public sealed class LedgerCheckpointCommand : JasperFxAsyncCommand<NetCoreInput>
{
    public override async Task<bool> Execute(NetCoreInput input)
    {
        using var host = input.BuildHost();
        return await LedgerCommands.CheckpointAsync(host.Services);
    }
}

public static class LedgerCommands
{
    /// <summary>One problem as one line: the run first, so lines sort and grep by run.</summary>
    public static string Line(LedgerProblem p)
    {
        var where = p.Version is { } v ? $" version {v}" : "";
        where += p.LineId is { } l ? $" line {l}" : "";
        where += p.File is { } f ? $" file '{f}'" : "";
        return $"{p.Run ?? "-"} {p.Kind}{where}: {p.Detail}";
    }

    public static async Task<bool> CheckpointAsync(IServiceProvider services)
    {
        if (!KeysConfigured(services))
        {
            return false;
        }
        var (written, refusal) = await services.GetRequiredService<Checkpoints>().WriteAsync(null, CancellationToken.None);
        if (written is null)
        {
            Console.Error.WriteLine("error: no checkpoint written: the store no longer extends the newest checkpoint.");
            foreach (var problem in refusal)
            {
                Console.WriteLine(Line(problem));
            }
            return false;
        }
        Console.WriteLine($"checkpoint {written.Id} at {Http.Rfc3339Converter.Text(written.At)} over {written.Runs} runs");
        Console.WriteLine($"root {written.Root}");
        Console.WriteLine($"previous_root {written.PreviousRoot ?? "-"}");
        Console.WriteLine($"key_id {written.KeyId}");
        Console.WriteLine($"signature {written.Signature}");
        return true;
    }

    public static async Task<bool> VerifyLedgerAsync(IServiceProvider services)
    {
        if (!KeysConfigured(services))
        {
            return false;
        }
        var checkpoints = services.GetRequiredService<Checkpoints>();
        var newest = (await checkpoints.ListAsync(null, 1, CancellationToken.None)).SingleOrDefault();
        var result = await ProgressBar.RunAsync("checking the newest checkpoint", newest?.Runs ?? 0, progress =>
            LedgerCheck.RunAsync(checkpoints, services.GetRequiredService<CheckpointKeys>(), services.GetRequiredService<NpgsqlDataSource>(),
                services.GetRequiredService<TimeProvider>().GetUtcNow(), n => progress(n), CancellationToken.None));
        foreach (var problem in result.Problems)
        {
            Console.WriteLine(Line(new LedgerProblem(problem.Kind, problem.Run, problem.Version, problem.LineId, problem.File, problem.Detail)));
        }
        Console.Error.WriteLine(result.Checkpoint is null
            ? "no checkpoint yet: nothing to check."
            : $"checkpoint {result.Checkpoint.Id}: {result.RunsChecked} runs checked, {(result.Verified ? "it holds" : $"{result.Problems.Count} problems")}.");
        return result.Verified;
    }

    public static async Task<bool> ChainAsync(IServiceProvider services)
    {
        var database = services.GetRequiredService<NpgsqlDataSource>();
        var runs = await ChainMigration.UnchainedRunsAsync(database, CancellationToken.None);
        var linked = await ProgressBar.RunAsync("chaining runs", runs.Count, async progress =>
        {
            long total = 0;
            for (var start = 0; start < runs.Count; start += ChainMigration.BatchSize)
            {
                var batch = runs.Skip(start).Take(ChainMigration.BatchSize).ToList();
                total += await ChainMigration.ChainAsync(database, batch, CancellationToken.None);
                progress(start + batch.Count);
            }
            return total;
        });
        Console.WriteLine($"{runs.Count} runs chained ({linked} events linked).");
        return true;
    }

    private static bool KeysConfigured(IServiceProvider services)
    {
        var problems = services.GetRequiredService<IOptions<RunsOptions>>().Value.Ledger.Problems().ToList();
        foreach (var problem in problems)
        {
            Console.Error.WriteLine($"error: {problem}");
        }
        return problems.Count == 0;
    }
}

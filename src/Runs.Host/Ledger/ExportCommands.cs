
namespace Runs.Host.Ledger;

public sealed class ExportInput : NetCoreInput
{
    [Description("Export the runs of this job")]
    public string? JobFlag { get; set; }

    [Description("Export this run")]
    public string? RunFlag { get; set; }

    [Description("Export every run")]
    public bool AllFlag { get; set; }

    [Description("Write to this file (standard output when omitted)")]
    public string? OutFlag { get; set; }
}

[Description("Export runs as runs-export/1 NDJSON (docs/ledger.md): --job J, --run R or --all, to --out FILE or standard output.", Name = "export")]
public sealed class ExportCommand : JasperFxAsyncCommand<ExportInput>
{
    public ExportCommand() => Usage("Export").ValidFlags(x => x.JobFlag!, x => x.RunFlag!, x => x.AllFlag, x => x.OutFlag!);

    public override async Task<bool> Execute(ExportInput input)
    {
        if (new[] { input.JobFlag is not null, input.RunFlag is not null, input.AllFlag }.Count(x => x) != 1)
        {
            Console.Error.WriteLine("error: give exactly one of --job J, --run R or --all.");
            return false;
        }
        using var host = input.BuildHost();
        var database = host.Services.GetRequiredService<NpgsqlDataSource>();
        var runs = input.AllFlag
            ? await StoredRunAudit.AllRunsAsync(database, CancellationToken.None)
            : input.JobFlag is { } job
                ? await StoredRunAudit.JobRunsAsync(database, job, CancellationToken.None)
                : await ExportEndpoints.RunOrNothingAsync(host.Services.GetRequiredService<IDocumentStore>(), input.RunFlag!);
        // As over HTTP (404): a job exists once it has a run, so nothing to export names nothing that exists.
        if (!input.AllFlag && runs.Count == 0)
        {
            Console.Error.WriteLine(input.RunFlag is { } run ? $"error: no run '{run}'." : $"error: no job '{input.JobFlag}'.");
            return false;
        }
        var now = host.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        await using var output = input.OutFlag is { } path ? File.Create(path) : Console.OpenStandardOutput();
        await using var buffered = new BufferedStream(output, 64 * 1024);
        await ProgressBar.RunAsync($"exporting {runs.Count} runs", runs.Count, async progress =>
        {
            await RunExport.WriteAsync(buffered, database, runs, now, n => progress(n), CancellationToken.None);
            return true;
        });
        return true;
    }
}

public sealed class ImportInput : NetCoreInput
{
    [Description("A runs-export/1 file")]
    public string File { get; set; } = "";
}

[Description("Import a runs-export/1 file: checked whole first (refused, nothing written, if any of it fails its hashes), then each run recreated as exported; exit code 1 when any run was refused or differs from one already here.", Name = "import")]
public sealed class ImportCommand : JasperFxAsyncCommand<ImportInput>
{
    public ImportCommand() => Usage("Import").Arguments(x => x.File);

    public override async Task<bool> Execute(ImportInput input)
    {
        if (!System.IO.File.Exists(input.File))
        {
            Console.Error.WriteLine($"error: no file '{input.File}'.");
            return false;
        }
        var size = new FileInfo(input.File).Length;
        var problems = await ProgressBar.RunAsync("checking the file", size, progress =>
            RunImport.CheckAsync(input.File, n => progress(n), CancellationToken.None));
        if (problems.Count > 0)
        {
            Console.Error.WriteLine($"error: '{input.File}' is refused, nothing was imported: it does not match its own hashes or is not a complete {RunExport.Format} file.");
            foreach (var problem in problems)
            {
                Console.WriteLine(problem);
            }
            return false;
        }

        using var host = input.BuildHost();
        var store = host.Services.GetRequiredService<IDocumentStore>();
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        var import = ActivatorUtilities.CreateInstance<RunImport>(host.Services);
        var outcomes = await ProgressBar.RunAsync("importing runs", size, progress =>
            import.ImportAsync(input.File, n => progress(n), null, CancellationToken.None));
        foreach (var outcome in outcomes)
        {
            Console.WriteLine($"{outcome.Run} {outcome.Result}{(outcome.Detail is null ? "" : $": {outcome.Detail}")}");
        }
        Console.Error.WriteLine($"{outcomes.Count(o => o.Result == ImportOutcome.Imported)} imported, {outcomes.Count(o => o.Result == ImportOutcome.Unchanged)} already here, " +
            $"{outcomes.Count(o => !o.Ok)} refused or different.");
        return outcomes.All(o => o.Ok);
    }
}

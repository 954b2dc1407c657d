
namespace Runs.Host.Retention;

/// <summary>The <c>Runs:Retention</c> settings.</summary>
public sealed class RetentionOptions
{
    public TimeSpan Default { get; set; } = TimeSpan.FromDays(30);
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Status name (<c>failed</c>, …) → period.</summary>
    public Dictionary<string, TimeSpan> ByOutcome { get; set; } = [];

    /// <summary>Job name → period; wins over <see cref="ByOutcome"/>.</summary>
    public Dictionary<string, TimeSpan> ByJob { get; set; } = [];
}

/// <summary>The <c>Runs:Outputs</c> settings.</summary>
public sealed class OutputsOptions
{
    public long MaxBytesPerFile { get; set; } = 256L * 1024 * 1024;
    public long MaxBytesPerRun { get; set; } = 256L * 1024 * 1024;
    public int MaxFilesPerRun { get; set; } = 100;
}

/// <summary>A run's retention as clients see it.</summary>
public sealed record RetentionView(DateTimeOffset? ExpiresOn, bool Expired);

/// <summary>How long a finished run's logs, input and output are kept: by job, else by outcome, else the default.</summary>
public sealed class RetentionPolicy(IOptions<RunsOptions> options)
{
    private RetentionOptions Settings => options.Value.Retention;

    public (TimeSpan Period, string Policy) For(string job, RunStatus status)
    {
        if (Settings.ByJob.TryGetValue(job, out var byJob))
        {
            return (byJob, $"Runs:Retention:ByJob:{job} = {byJob}");
        }
        if (Settings.ByOutcome.FirstOrDefault(o => string.Equals(o.Key, status.Name(), StringComparison.OrdinalIgnoreCase)) is { Key: not null } byOutcome)
        {
            return (byOutcome.Value, $"Runs:Retention:ByOutcome:{status.Name()} = {byOutcome.Value}");
        }
        return (Settings.Default, $"Runs:Retention:Default = {Settings.Default}");
    }

    /// <summary>When the run's data expires; null while it is not finished (a running run never expires).</summary>
    public DateTimeOffset? ExpiresOn(Run run) =>
        run.ExpiredOn ?? (run.Status.IsTerminal() && run.CompletedOn is { } completed ? completed + For(run.Job, run.Status).Period : null);

    public RetentionView ViewOf(Run run) => new(ExpiresOn(run), run.ExpiredOn is not null);
}

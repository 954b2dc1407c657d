
namespace Runs.Host.Runs.Reading;

/// <summary>The short facts of a run; <c>origin</c> is the run's canonical URI.</summary>
public sealed record RunStats(
    string Name,
    string Shortname,
    string Status,
    string Origin,
    DateTimeOffset? StartedOn,
    DateTimeOffset? CompletedOn,
    double? Duration,
    string Trigger,
    string? Source,
    bool HasOutput,
    string CreatedBy)
{
    public static RunStats From(Run run) => new(
        run.Id, RunView.ShortnameOf(run.Id), run.Status.Name(), RunView.UriOf(run.Job, run.Id),
        run.StartedOn, run.CompletedOn, run.Duration, run.Trigger, run.Source, run.HasOutput, run.CreatedBy);

    /// <summary><c>key: value</c> lines in the contract's order; a missing value is left empty.</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        void Line(string key, string? value) => text.Append(key).Append(": ").Append(value).Append('\n');
        Line("name", Name);
        Line("shortname", Shortname);
        Line("status", Status);
        Line("origin", Origin);
        Line("started_on", StartedOn is { } s ? Rfc3339Converter.Text(s) : null);
        Line("completed_on", CompletedOn is { } c ? Rfc3339Converter.Text(c) : null);
        Line("duration", Duration?.ToString("0.00", CultureInfo.InvariantCulture));
        Line("trigger", Trigger);
        Line("source", Source);
        Line("has_output", HasOutput ? "true" : "false");
        Line("created_by", CreatedBy);
        return text.ToString();
    }
}

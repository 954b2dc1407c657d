
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

public static class GetRunStatsEndpoint
{
    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs/{job}/runs/{run}/stats", OperationId = "getRunStats", Summary = "Get a run's stats")]
    [Tags("Reading runs")]
    [Produces("text/plain", "application/json")]
    [ProducesResponseType<RunStats>(StatusCodes.Status200OK, "application/json")]
    public static IResult Get(Run run, HttpContext http)
    {
        if (ETags.NotModified(http, run.Version))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }
        var stats = RunStats.From(run);
        return Negotiation.WantsJson(http.Request)
            ? Results.Ok(stats)
            : Results.Text(stats.ToText(), "text/plain; charset=utf-8");
    }
}

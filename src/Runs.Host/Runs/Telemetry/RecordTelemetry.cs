
namespace Runs.Host.Runs.Telemetry;

/// <summary>
/// The body of <c>POST .../runs/{run}/telemetry</c>: a summary patch (shallow-merged into the run's
/// summary) and/or samples (<c>at</c> defaults to the server's time; other fields are numbers).
/// </summary>
public sealed record RecordTelemetryRequest(Dictionary<string, JsonElement>? Summary = null, List<Dictionary<string, JsonElement>>? Samples = null)
{
    public const int MaxSamplesPerRequest = 1000;

    public sealed class Validator : AbstractValidator<RecordTelemetryRequest>
    {
        public Validator()
        {
            RuleFor(x => x).Must(x => x.Summary is not null || x.Samples is not null).OverridePropertyName("body")
                .WithMessage("Give a 'summary', 'samples', or both.");
            RuleFor(x => x.Summary).SetValidator(new TelemetrySummaryRules()!);
            RuleFor(x => x.Samples).Must(s => s!.Count <= MaxSamplesPerRequest).When(x => x.Samples is not null)
                .WithMessage($"At most {MaxSamplesPerRequest} samples per request.");
            RuleForEach(x => x.Samples).Must(s => s is not null && TelemetrySamples.IsValid(s)).WithMessage(TelemetrySamples.Rule);
        }
    }
}

/// <summary>A run's telemetry: its summary and its (possibly downsampled) samples, oldest first.</summary>
public sealed record TelemetryView(IReadOnlyDictionary<string, JsonElement> Summary, IReadOnlyList<IReadOnlyDictionary<string, JsonElement>> Samples);

public static class RecordTelemetryEndpoint
{
    [Authorize(Scopes.RunsWrite)]
    [WolverinePost("/v1/jobs/{job}/runs/{run}/telemetry", OperationId = "recordTelemetry", Summary = "Record telemetry")]
    [Tags("Logs and telemetry")]
    [ProducesResponseType<TelemetryView>(StatusCodes.Status200OK)]
    public static RunAnswer Post(RecordTelemetryRequest body, Run run, IDocumentSession session, IOptions<RunsOptions> options, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        var telemetry = options.Value.Telemetry;
        var decision = RunDecider.RecordTelemetry(run,
            new RecordTelemetry(body.Summary, [.. (body.Samples ?? []).Select(s => TelemetrySamples.Stamp(s, now))]), telemetry.Limits, now);
        return new RunAnswer(decision, async (after, append) =>
        {
            var series = await session.LoadAsync<TelemetrySeries>(run.Id) ?? new TelemetrySeries { Id = run.Id };
            series = series.With(((TelemetrySampled)append.Events[0]).Samples, telemetry.MaxSamplesPerRun);
            return new TelemetryView(after.TelemetrySummary, series.Samples);
        });
    }
}

using System.Text.Json;
using FluentValidation;
using Marten;
using Microsoft.Extensions.Options;
using Runs.Domain;
using Runs.Host.Http;
using Wolverine;
using Wolverine.Http;

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
    [WolverinePost("/v1/jobs/{job}/runs/{run}/telemetry", OperationId = "RecordTelemetry")]
    [Tags("Logs and telemetry")]
    [Consumes(typeof(RecordTelemetryRequest), "application/json")]
    [ProducesResponseType<TelemetryView>(StatusCodes.Status200OK)]
    public static Task<IResult> Post(
        string job, string run, HttpContext http, JsonBody json, IDocumentSession session, IMessageBus bus,
        IOptions<RunsOptions> options, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        return RunWrites.ExecuteAsync(job, run, http, json, session, bus, new RecordTelemetryRequest.Validator(),
            (body, current) => RunDecider.RecordTelemetry(current,
                new RecordTelemetry(body!.Summary, [.. (body.Samples ?? []).Select(s => TelemetrySamples.Stamp(s, now))]),
                options.Value.Telemetry.Limits, now),
            bodyRequired: true,
            answer: (after, _) => Task.FromResult<IResult>(new CommittedTelemetry(session, run, after.TelemetrySummary)));
    }

    /// <summary>
    /// The series as the inline projection left it: Wolverine commits before it writes the answer, so the
    /// samples are merged and downsampled once per request, by the projection, and the answer is what a
    /// later read gives.
    /// </summary>
    private sealed class CommittedTelemetry(IQuerySession session, string run, IReadOnlyDictionary<string, JsonElement> summary) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            var series = await session.LoadAsync<TelemetrySeries>(run, http.RequestAborted);
            await Results.Ok(new TelemetryView(summary, series?.Samples ?? [])).ExecuteAsync(http);
        }
    }
}

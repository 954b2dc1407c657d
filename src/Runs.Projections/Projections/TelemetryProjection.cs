using JasperFx.Events;
using Marten.Events.Aggregation;

namespace Runs.Projections;

/// <summary>
/// A run's telemetry series, updated inline: samples are appended in time order and the series is
/// downsampled past the cap — a pure fold, so a rebuild gives the same series.
/// </summary>
public partial class TelemetryProjection : SingleStreamProjection<TelemetrySeries, string>
{
    public TelemetryProjection(int maxSamplesPerRun)
    {
        MaxSamplesPerRun = maxSamplesPerRun;
        // Without a declared event type the projection applies to every stream, and every start, finish and
        // log append would load a series document that does not exist.
        IncludeType<TelemetrySampled>();
    }

    public int MaxSamplesPerRun { get; }

    public override TelemetrySeries? Evolve(TelemetrySeries? snapshot, string id, IEvent e) => e.Data switch
    {
        TelemetrySampled { Samples.Count: > 0 } sampled =>
            (snapshot ?? new TelemetrySeries { Id = id }).With(sampled.Samples, MaxSamplesPerRun),
        _ => snapshot,
    };
}

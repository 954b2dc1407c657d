using JasperFx.Events;
using Marten.Events.Aggregation;

namespace Runs.Projections;

/// <summary>The run document, updated inline in the same transaction as its events.</summary>
public partial class RunProjection : SingleStreamProjection<Run, string>
{
    public override Run? Evolve(Run? snapshot, string id, IEvent e) => Run.Fold(snapshot, e.Data);
}

using Runs.Domain.Ledger;

namespace Runs.Domain.Tests;

public sealed class RunAuditTests
{
    private const string Run = "20260613-081502-0123456789abcdef";
    private static readonly DateTimeOffset At = new(2026, 6, 13, 8, 0, 0, TimeSpan.Zero);

    private static readonly LogLine[] Lines =
    [
        new(1, At, LogLevel.Info, "one", false),
        new(2, At, LogLevel.Error, "two", false),
    ];

    private static ChainedEvent Event(long version, string type, string data) =>
        new(Run, version, type, At.AddSeconds(version), JsonDocument.Parse(data).RootElement, "ci", null, null);

    /// <summary>Triggered, then a batch of <see cref="Lines"/>, linked as the service links them.</summary>
    private static (ChainedEvent Event, ChainLink Link)[] History()
    {
        ChainedEvent[] events =
        [
            Event(1, "Triggered", "{\"input_files\":[]}"),
            Event(2, "LogAppended", $"{{\"first_line_id\":1,\"last_line_id\":2,\"sha256\":\"{LogBatch.Digest(Lines)}\",\"error_lines\":[\"two\"]}}"),
        ];
        string? previous = null;
        return [.. events.Select(e =>
        {
            var link = new ChainLink(e.Version, EventChain.Hash(previous, e), previous);
            previous = link.Hash;
            return (e, link);
        })];
    }

    private static RunVerdict Audit((ChainedEvent? Event, ChainLink? Link)[] history, IEnumerable<LogLine> lines, RunHead? checkpoint = null)
    {
        var audit = new RunAudit(Run, checkpoint);
        for (var i = 0; i < history.Length; i++)
        {
            audit.Event(history[i].Event?.Version ?? history[i].Link!.Version, history[i].Event, history[i].Link);
        }
        foreach (var line in lines)
        {
            audit.Line(line);
        }
        return audit.Finish();
    }

    [Fact]
    public void A_history_as_written_verifies_and_its_head_is_the_last_link()
    {
        var history = History();

        var verdict = Audit([.. history.Select(h => ((ChainedEvent?)h.Event, (ChainLink?)h.Link))], Lines);

        Assert.True(verdict.Verified, string.Join("; ", verdict.Problems));
        Assert.Equal((history[^1].Link.Hash, 2L, 2L), (verdict.Head, verdict.Events, verdict.LogLines));
    }

    [Fact]
    public void A_gap_in_a_batch_names_the_first_missing_line()
    {
        var history = History();

        var verdict = Audit([.. history.Select(h => ((ChainedEvent?)h.Event, (ChainLink?)h.Link))], Lines[1..]);

        var problem = Assert.Single(verdict.Problems);
        Assert.Equal((ProblemKinds.LogLineRemoved, 2L, 1L), (problem.Kind, problem.Version, problem.LineId));
    }

    [Fact]
    public void Events_without_any_link_are_one_problem_not_one_per_event()
    {
        var history = History();

        var verdict = Audit([.. history.Select(h => ((ChainedEvent?)h.Event, (ChainLink?)null))], Lines);

        Assert.Equal([ProblemKinds.ChainMissing], verdict.Problems.Select(p => p.Kind));
    }

    [Fact]
    public void Against_a_checkpoint_the_chain_is_recomputed_from_the_first_event()
    {
        var history = History();
        var forged = Event(1, "Triggered", "{\"input_files\":[],\"forged\":true}");
        var relinked = new ChainLink(1, EventChain.Hash(null, forged), null);
        var second = new ChainLink(2, EventChain.Hash(relinked.Hash, history[1].Event), relinked.Hash);
        var checkpoint = new RunHead(Run, 2, history[1].Link.Hash);

        var honest = Audit([.. history.Select(h => ((ChainedEvent?)h.Event, (ChainLink?)h.Link))], Lines, checkpoint);
        var rewritten = Audit([(forged, relinked), (history[1].Event, second)], Lines, checkpoint);

        Assert.True(honest.Verified);
        Assert.Equal([ProblemKinds.HeadChanged], rewritten.Problems.Select(p => p.Kind));
    }
}

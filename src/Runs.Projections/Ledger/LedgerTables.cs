using Weasel.Postgresql.Tables;

namespace Runs.Projections.Ledger;

/// <summary>
/// The ledger's own tables, beside Marten's and never touched by a projection rebuild: one link per event
/// (its hash and the hash before it), the checkpoints, and each checkpoint's heads — only those that changed
/// since the checkpoint before, so an hourly checkpoint over a hundred thousand quiet runs stores a few rows.
/// </summary>
public static class LedgerTables
{
    public const string Links = "ledger_events";
    public const string Checkpoints = "ledger_checkpoints";
    public const string CheckpointHeads = "ledger_checkpoint_heads";

    public static IEnumerable<Table> All(string schema)
    {
        var links = new Table($"{schema}.{Links}");
        links.AddColumn("run_id", "text").AsPrimaryKey();
        links.AddColumn("version", "bigint").AsPrimaryKey();
        links.AddColumn("hash", "text").NotNull();
        links.AddColumn("previous_hash", "text");
        yield return links;

        var checkpoints = new Table($"{schema}.{Checkpoints}");
        checkpoints.AddColumn("id", "bigint").AsPrimaryKey();
        checkpoints.AddColumn("at", "timestamptz").NotNull();
        checkpoints.AddColumn("runs", "bigint").NotNull();
        checkpoints.AddColumn("root", "text").NotNull();
        checkpoints.AddColumn("previous_root", "text");
        checkpoints.AddColumn("signature", "text").NotNull();
        checkpoints.AddColumn("key_id", "text").NotNull();
        yield return checkpoints;

        var heads = new Table($"{schema}.{CheckpointHeads}");
        heads.AddColumn("run_id", "text").AsPrimaryKey();
        heads.AddColumn("checkpoint_id", "bigint").AsPrimaryKey();
        heads.AddColumn("version", "bigint").NotNull();
        heads.AddColumn("hash", "text").NotNull();
        yield return heads;
    }
}

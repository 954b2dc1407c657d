
namespace Runs.Host.Ledger;

public sealed record LedgerVerification(bool Verified, CheckpointView? Checkpoint, long RunsChecked, DateTimeOffset CheckedOn, IReadOnlyList<ProblemView> Problems);

/// <summary>
/// The newest checkpoint against the store: its heads give its signed root, it chains to the checkpoint
/// before it, and every run it lists is still stored with events that hash, from the first, to the head it had.
/// </summary>
public static class LedgerCheck
{
    public static async Task<LedgerVerification> RunAsync(
        Checkpoints checkpoints, CheckpointKeys keys, NpgsqlDataSource database, DateTimeOffset now, Action<int>? progress, CancellationToken cancellation)
    {
        var newest = (await checkpoints.ListAsync(null, 1, cancellation)).SingleOrDefault();
        if (newest is null)
        {
            return new LedgerVerification(true, null, 0, now, []);
        }

        var problems = await checkpoints.ChainProblemsAsync(cancellation);
        var heads = await checkpoints.HeadsAsync(newest.Id, cancellation);
        if (heads.Count != newest.Runs || CheckpointStatement.Root(newest.PreviousRoot, MerkleTree.Root(heads)) != newest.Root)
        {
            problems.Add(Changed(newest, $"its stored heads ({heads.Count} runs) do not give its root: they were edited."));
        }
        if (keys.Check(newest.KeyId, newest.Statement(), newest.Signature) is { } why)
        {
            problems.Add(Changed(newest, $"{why}."));
        }

        var listed = heads.ToDictionary(h => h.Run);
        var checkedRuns = 0;
        await foreach (var verdict in StoredRunAudit.VerifyAsync(database, [.. listed.Keys], listed, content: false, cancellation))
        {
            problems.AddRange(verdict.Problems.Where(p => p.Kind is ProblemKinds.RunMissing or ProblemKinds.HeadChanged));
            checkedRuns++;
            progress?.Invoke(checkedRuns);
        }
        return new LedgerVerification(problems.Count == 0, newest, checkedRuns, now, [.. problems.Select(ProblemView.From)]);
    }

    private static LedgerProblem Changed(CheckpointView checkpoint, string why) =>
        new(ProblemKinds.CheckpointChanged, null, null, null, null, $"Checkpoint {checkpoint.Id} does not hold together: {why}");
}

public static class VerifyLedgerEndpoint
{
    [Authorize(Scopes.Admin)]
    [WolverineGet("/v1/ledger/verify", OperationId = "verifyLedger", Summary = "Verify the store against the newest checkpoint")]
    [Tags("Ledger")]
    [Microsoft.AspNetCore.Http.Timeouts.DisableRequestTimeout]
    [ProducesResponseType<LedgerVerification>(StatusCodes.Status200OK)]
    public static async Task<IResult> Get(HttpContext http, Checkpoints checkpoints, CheckpointKeys keys, NpgsqlDataSource database, TimeProvider clock)
    {
        return Results.Ok(await LedgerCheck.RunAsync(checkpoints, keys, database, clock.GetUtcNow(), null, http.RequestAborted));
    }
}

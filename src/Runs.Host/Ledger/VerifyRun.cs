
namespace Runs.Host.Ledger;

public sealed record ProblemView(string Kind, string? Run, long? Version, long? LineId, string? File, string Detail)
{
    public static ProblemView From(LedgerProblem p) => new(p.Kind, p.Run, p.Version, p.LineId, p.File, p.Detail);
}

public sealed record RunVerification(
    string Run, bool Verified, string? Head, long Events, long LogLines, long Files, DateTimeOffset CheckedOn, IReadOnlyList<ProblemView> Problems)
{
    public static RunVerification From(RunVerdict verdict, DateTimeOffset now) => new(
        verdict.Run, verdict.Verified, verdict.Head, verdict.Events, verdict.LogLines, verdict.Files, now,
        [.. verdict.Problems.Select(ProblemView.From)]);
}

/// <summary><c>GET .../runs/{run}/verify</c>: the run's chain, and its log lines and files against the digests its events recorded.</summary>
public static class VerifyRunEndpoint
{
    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs/{job}/runs/{run}/verify", OperationId = "verifyRun", Summary = "Verify a run's history and content")]
    [Tags("Auditing")]
    [ProducesResponseType<RunVerification>(StatusCodes.Status200OK)]
    public static async Task<IResult> Get(Run run, HttpContext http, NpgsqlDataSource database, TimeProvider clock)
    {
        await foreach (var verdict in StoredRunAudit.VerifyAsync(database, [run.Id], cancellation: http.RequestAborted))
        {
            return Results.Ok(RunVerification.From(verdict, clock.GetUtcNow()));
        }
        throw new InvalidOperationException("A verification of one run answers one verdict.");
    }
}

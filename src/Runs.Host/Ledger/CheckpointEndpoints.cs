
namespace Runs.Host.Ledger;

public sealed record CheckpointPage(IReadOnlyList<CheckpointView> Checkpoints, string? NextPageToken);

/// <summary>The query of the checkpoint list: <c>page_size</c>, <c>page_token</c>.</summary>
public sealed record CheckpointQuery(int Size, long? Before) : IQueryRequest<CheckpointQuery>
{
    public static (CheckpointQuery? Query, IResult? Refusal) Read(HttpRequest request)
    {
        var (size, before, problem) = PageSize.WithToken(request, CheckpointEndpoints.DefaultPageSize, CheckpointEndpoints.MaxPageSize,
            text => text.StartsWith('c') && long.TryParse(text[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : (long?)null);
        return problem is null ? (new CheckpointQuery(size, before), null) : (null, problem);
    }

    public static IEnumerable<OpenApiParameter> Parameters => QueryParameters.Paging(CheckpointEndpoints.DefaultPageSize, CheckpointEndpoints.MaxPageSize, "Checkpoints");
}

public sealed record SigningKeys(IReadOnlyList<SigningKeyView> Keys);

public static class CheckpointEndpoints
{
    public const int DefaultPageSize = 30;
    public const int MaxPageSize = 1000;

    [Authorize(Scopes.Admin)]
    [WolverineGet("/v1/ledger/checkpoints", OperationId = "listCheckpoints", Summary = "List ledger checkpoints, newest first")]
    [Tags("Ledger")]
    [ProducesResponseType<CheckpointPage>(StatusCodes.Status200OK)]
    public static async Task<IResult> List(CheckpointQuery query, HttpContext http, Checkpoints checkpoints)
    {
        var size = query.Size;
        var page = await checkpoints.ListAsync(query.Before, size + 1, http.RequestAborted);
        return Results.Ok(new CheckpointPage([.. page.Take(size)], page.Count > size ? $"c{page[size - 1].Id}" : null));
    }

    [Authorize(Scopes.Admin)]
    [WolverineGet("/v1/ledger/checkpoints/{id}", OperationId = "getCheckpoint", Summary = "Get a ledger checkpoint")]
    [Tags("Ledger")]
    [ProducesResponseType<CheckpointView>(StatusCodes.Status200OK)]
    public static async Task<IResult> Get(string id, HttpContext http, Checkpoints checkpoints)
    {
        return long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            && await checkpoints.FindAsync(number, http.RequestAborted) is { } checkpoint
            ? Results.Ok(checkpoint)
            : Problems.NotFound($"No checkpoint '{id}'.");
    }

    [Authorize(Scopes.Admin)]
    [WolverinePost("/v1/ledger/checkpoints", OperationId = "writeCheckpoint", Summary = "Write a ledger checkpoint now")]
    [Tags("Ledger")]
    [ProducesResponseType<CheckpointView>(StatusCodes.Status201Created)]
    public static async Task<IResult> Post(HttpContext http, Checkpoints checkpoints)
    {
        var (written, refusal) = await checkpoints.WriteAsync(null, http.RequestAborted);
        if (written is null)
        {
            return Results.Problem(
                detail: $"The store no longer extends the newest checkpoint, so no checkpoint was written: {string.Join(" ", refusal.Select(p => p.Detail))}",
                statusCode: StatusCodes.Status409Conflict,
                title: "The ledger does not verify.",
                extensions: new Dictionary<string, object?> { ["problems"] = refusal.Select(ProblemView.From).ToList() });
        }
        return Results.Created($"/v1/ledger/checkpoints/{written.Id}", written);
    }

    [WolverineGet("/v1/ledger/keys", OperationId = "listSigningKeys", Summary = "List the public keys that sign checkpoints")]
    [Tags("Ledger")]
    [ProducesResponseType<SigningKeys>(StatusCodes.Status200OK)]
    public static IResult Keys(CheckpointKeys keys) => Results.Ok(new SigningKeys(keys.Describe()));
}

/// <summary>
/// <c>GET /v1/ledger/checkpoints/{id}/heads</c>: every <c>(run, version, hash)</c> a checkpoint committed to, in
/// the order its Merkle tree takes them, so anyone holding the checkpoint can recompute its root.
/// </summary>
public static class CheckpointHeadsEndpoint
{
    public sealed record HeadView(string Run, long Version, string Hash);

    public sealed record HeadList(long Checkpoint, IReadOnlyList<HeadView> Heads);

    [Authorize(Scopes.Admin)]
    [WolverineGet("/v1/ledger/checkpoints/{id}/heads", OperationId = "listCheckpointHeads", Summary = "List the run heads a checkpoint committed to")]
    [Tags("Ledger")]
    [ProducesResponseType<HeadList>(StatusCodes.Status200OK)]
    public static async Task<IResult> Get(string id, HttpContext http, Checkpoints checkpoints)
    {
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || await checkpoints.FindAsync(number, http.RequestAborted) is null)
        {
            return Problems.NotFound($"No checkpoint '{id}'.");
        }
        var heads = await checkpoints.HeadsAsync(number, http.RequestAborted);
        return Results.Ok(new HeadList(number, [.. heads.Select(h => new HeadView(h.Run, h.Version, h.Hash))]));
    }
}


namespace Runs.Host.Runs.Writing;

/// <summary>
/// What a write endpoint returns: the domain's decision and, when the answer is not the run itself, how to
/// shape it from the run after the events. <see cref="RunWrites.CompleteAsync"/> appends the events and fills
/// in <see cref="Body"/> before the commit; Wolverine writes the answer after it.
/// </summary>
public sealed class RunAnswer(Decision decision, Func<Run, Decision.Append, Task<object>>? shape = null) : IResult
{
    public Decision Decision { get; } = decision;

    public Func<Run, Decision.Append, Task<object>>? Shape { get; } = shape;

    /// <summary>The 200 answer's body, once the events are appended.</summary>
    public object? Body { get; set; }

    public static implicit operator RunAnswer(Decision decision) => new(decision);

    public Task ExecuteAsync(HttpContext http) =>
        (Decision is Decision.Append ? Results.Ok(Body) : Problems.Decision(Decision)).ExecuteAsync(http);
}

using System.Security.Claims;
using FluentValidation;
using JasperFx;
using JasperFx.Events;
using Marten;
using Runs.Domain;
using Runs.Host.Auth;
using Runs.Host.Tokens;
using Runs.Host.Http;
using Runs.Host.Retention;
using Runs.Host.Runs.Reading;
using Runs.Host.Webhooks;
using Wolverine;
using Runs.Projections;

namespace Runs.Host.Runs;

/// <summary>
/// The shared shape of every write to an existing run: authorise, read the body, validate it, fetch the
/// run for writing, let a pure decision answer, append its events. Wolverine commits the session.
/// </summary>
public static class RunWrites
{
    public static async Task<IResult> ExecuteAsync<TBody>(
        string job,
        string run,
        HttpContext http,
        JsonBody json,
        IDocumentSession session,
        IMessageBus bus,
        IValidator<TBody>? validator,
        Func<TBody?, Run, Decision> decide,
        bool bodyRequired = false,
        Func<Run, Decision.Append, Task<object>>? answer = null)
        where TBody : class
    {
        var (body, problem) = await json.ReadAsync<TBody>(http.Request, bodyRequired);
        if (problem is not null)
        {
            return problem;
        }
        if (body is not null && validator is not null && validator.Validate(body) is { IsValid: false } validation)
        {
            return Problems.Invalid(validation);
        }
        return await AppendAsync(job, run, http, session, bus, json, body, current => decide(body, current), answer);
    }

    /// <summary>
    /// Fetches, decides and appends; answers 200 with the run unless <paramref name="answer"/> gives another body.
    /// <paramref name="command"/> is the request as read, which an <c>Idempotency-Key</c> retry must repeat.
    /// </summary>
    public static async Task<IResult> AppendAsync(
        string job, string run, HttpContext http, IDocumentSession session, IMessageBus bus, JsonBody json, object? command,
        Func<Run, Decision> decide, Func<Run, Decision.Append, Task<object>>? answer = null)
    {
        var (expected, malformed) = ETags.Expected(http.Request);
        if (malformed)
        {
            return Problems.Invalid("If-Match", "If-Match must be a run's ETag, such as \"3\".");
        }
        if (!JobName.IsValid(job) || !RunId.IsValid(run))
        {
            return NotFound(job, run);
        }
        var (key, badKey) = Idempotency.KeyOf(http.Request);
        if (badKey is not null)
        {
            return badKey;
        }
        var idempotency = http.RequestServices.GetRequiredService<Idempotency>();
        Idempotency.Pending? pending = null;
        if (key is not null)
        {
            (var earlier, pending) = await idempotency.BeginAsync(session, http, $"run:{run}", key, command, json.SerializerOptions);
            if (earlier is not null)
            {
                return earlier;
            }
        }

        IEventStream<Run> stream;
        try
        {
            // With one If-Match version the caller asserts it (optimistically, checked again at commit);
            // otherwise writers to one run queue behind a row lock and the version is checked under it.
            stream = expected is [var version]
                ? await session.Events.FetchForWriting<Run>(run, version, http.RequestAborted)
                : await session.Events.FetchForExclusiveWriting<Run>(run, http.RequestAborted);
        }
        catch (ConcurrencyException)
        {
            return Problems.PreconditionFailed($"The run is no longer at version {expected[0]}; nothing was changed. Read it again and retry.");
        }

        if (stream.Aggregate is not { } current || current.Job != job)
        {
            return NotFound(job, run);
        }
        if (expected.Count > 0 && !expected.Contains(current.Version))
        {
            return Problems.PreconditionFailed($"The run is at version {current.Version}, not {string.Join(" or ", expected)}; nothing was changed.");
        }

        var decision = decide(current);
        if (decision is not Decision.Append append)
        {
            return Problems.Decision(decision);
        }

        var after = append.Events.Aggregate(current, Run.Fold);
        http.Response.Headers.ETag = ETags.Of(after.Version);
        if (append.Events.Count > 0)
        {
            stream.AppendMany(append.Events);
            LogLineStore.Queue(session, run, append.Lines ?? []);
            RunChanges.Queue(session, run);
            await TerminalNotices.EnqueueAsync(bus, after, append.Events);
        }
        var body = answer is null ? RunView.From(after, http.RequestServices.GetRequiredService<RetentionPolicy>()) : await answer(after, append);
        if (pending is not null)
        {
            idempotency.Remember(session, pending, StatusCodes.Status200OK, after.Version, body, json.SerializerOptions);
        }
        return Results.Ok(body);
    }

    private static IResult NotFound(string job, string run) => Problems.NotFound($"No run '{run}' in job '{job}'.");
}

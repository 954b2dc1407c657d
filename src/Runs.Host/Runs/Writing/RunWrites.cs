
namespace Runs.Host.Runs.Writing;

/// <summary>The steps <see cref="RunPipeline"/> generates around every write to an existing run.</summary>
public static class RunWrites
{
    /// <summary>
    /// The JSON body as the contract reads it (413 past the size limit, 415 for another media type, 400 naming
    /// the field), then its registered validator. An absent body is null unless the endpoint's parameter is
    /// not nullable.
    /// </summary>
    public static async Task<(T? Body, IResult? Refusal)> ReadBodyAsync<T>(HttpContext http, bool optional) where T : class
    {
        var services = http.RequestServices;
        var (body, problem) = await services.GetRequiredService<JsonBody>().ReadAsync<T>(http.Request, required: !optional);
        if (problem is not null)
        {
            return (null, problem);
        }
        return Validate(body, services);
    }

    /// <summary>The one place a request body meets its validator (registered once, at start).</summary>
    public static (T? Body, IResult? Refusal) Validate<T>(T? body, IServiceProvider services) where T : class =>
        body is not null && services.GetService<IValidator<T>>() is { } validator && validator.Validate(body) is { IsValid: false } validation
            ? (null, Problems.Invalid(validation))
            : (body, null);

    /// <summary>
    /// Fetches the run named in the route for writing. With one If-Match version the caller asserts it
    /// (optimistically, checked again at commit); otherwise writers to one run queue behind a row lock and the
    /// version is checked under it. <paramref name="command"/> is the request as read, which an
    /// <c>Idempotency-Key</c> retry must repeat. A write in a group commit is not cancelled with its request:
    /// the transaction is its neighbours' too.
    /// </summary>
    public static async Task<(IEventStream<Run>? Stream, IResult? Refusal)> LoadAsync(HttpContext http, IDocumentSession session, object? command, CancellationToken cancellation)
    {
        var job = (string)http.Request.RouteValues["job"]!;
        var run = (string)http.Request.RouteValues["run"]!;
        var (expected, malformed) = ETags.Expected(http.Request);
        if (malformed)
        {
            return (null, Problems.Invalid("If-Match", "If-Match must be a run's ETag, such as \"3\"."));
        }
        if (!JobName.IsValid(job) || !RunId.IsValid(run))
        {
            return (null, RunLookup.NotFound(job, run));
        }
        var (key, badKey) = Idempotency.KeyOf(http.Request);
        if (badKey is not null)
        {
            return (null, badKey);
        }
        if (key is not null)
        {
            var idempotency = http.RequestServices.GetRequiredService<Idempotency>();
            var json = http.RequestServices.GetRequiredService<JsonBody>();
            var (earlier, pending) = await idempotency.BeginAsync(session, http, $"run:{run}", key, command, json.SerializerOptions, cancellation);
            if (earlier is not null)
            {
                return (null, earlier);
            }
            http.Features.Set(pending);
        }

        IEventStream<Run> stream;
        try
        {
            stream = expected is [var version]
                ? await session.Events.FetchForWriting<Run>(run, version, cancellation)
                : await session.Events.FetchForExclusiveWriting<Run>(run, cancellation);
        }
        catch (ConcurrencyException)
        {
            return (null, Problems.PreconditionFailed($"The run is no longer at version {expected[0]}; nothing was changed. Read it again and retry."));
        }

        if (stream.Aggregate is not { } current || current.Job != job)
        {
            return (null, RunLookup.NotFound(job, run));
        }
        if (expected.Count > 0 && !expected.Contains(current.Version))
        {
            return (null, Problems.PreconditionFailed($"The run is at version {current.Version}, not {string.Join(" or ", expected)}; nothing was changed."));
        }
        return (stream, null);
    }

    /// <summary>
    /// Appends what the endpoint decided and shapes the 200 answer (the run, unless the endpoint shapes
    /// another), which an <c>Idempotency-Key</c> keeps for retries. A refusal appends nothing. The log lines
    /// go in with the events, or into <paramref name="copy"/> when the transaction writes them by COPY.
    /// </summary>
    public static async Task CompleteAsync(HttpContext http, RunAnswer answer, IEventStream<Run> stream, IDocumentSession session, LogLineStore.Copy? copy = null)
    {
        if (answer.Decision is not Decision.Append append)
        {
            return;
        }
        var after = append.Events.Aggregate(stream.Aggregate, Run.Fold)!;
        http.Response.Headers.ETag = ETags.Of(after.Version);
        if (append.Events.Count > 0)
        {
            stream.AppendMany(append.Events);
            if (copy is null)
            {
                LogLineStore.Queue(session, after.Id, append.Lines ?? []);
            }
            else
            {
                copy.Add(after.Id, append.Lines ?? []);
            }
        }
        answer.Body = answer.Shape is { } shape
            ? await shape(after, append)
            : RunView.From(after, http.RequestServices.GetRequiredService<RetentionPolicy>());
        if (http.Features.Get<Idempotency.Pending>() is { } pending)
        {
            var json = http.RequestServices.GetRequiredService<JsonBody>();
            http.RequestServices.GetRequiredService<Idempotency>()
                .Remember(session, pending, StatusCodes.Status200OK, after.Version, answer.Body, json.SerializerOptions);
        }
    }
}

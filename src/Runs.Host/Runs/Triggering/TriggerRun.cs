
namespace Runs.Host.Runs.Triggering;

public sealed record EnvEntry(string? Key, string? Value, bool Secret = false);

/// <summary>The body of <c>POST /v1/jobs/{job}/runs</c>.</summary>
public sealed record TriggerRun(
    string? Trigger = null,
    string? Source = null,
    JsonElement? Input = null,
    IReadOnlyList<string>? Argv = null,
    string? Command = null,
    string? Entrypoint = null,
    IReadOnlyList<EnvEntry>? Env = null,
    IReadOnlyDictionary<string, string>? Labels = null,
    string? PreviousRun = null)
{
    public static readonly string[] Triggers = ["api", "schedule", "email", "webhook"];

    public sealed class Validator : AbstractValidator<TriggerRun>
    {
        public Validator(IOptions<RunsOptions> options)
        {
            var maxInputBytes = options.Value.Limits.MaxInputBytes;
            RuleFor(x => x.Input).Must(i => StoredJson.Size(i!.Value) <= maxInputBytes).When(x => x.Input is not null)
                .WithMessage($"'input' may hold at most {maxInputBytes} bytes of JSON; send larger inputs as input files (multipart).");
            RuleFor(x => x.Trigger).Must(t => t is null || Triggers.Contains(t))
                .WithMessage($"'trigger' must be one of {string.Join(", ", Triggers)}.");
            RuleFor(x => x.Source).MaximumLength(200);
            RuleFor(x => x.Argv).Must(a => a!.Count <= 200).When(x => x.Argv is not null)
                .WithMessage("'argv' may hold at most 200 items.");
            RuleFor(x => x.Argv).Must(a => a!.Sum(s => s?.Length ?? 0) <= 8000).When(x => x.Argv is not null)
                .WithMessage("'argv' may hold at most 8000 characters in total.");
            RuleForEach(x => x.Argv).NotNull().WithMessage("'argv' items must be strings.");
            RuleFor(x => x.Command).MaximumLength(4000);
            RuleFor(x => x.Command).Null().When(x => x.Argv is not null)
                .WithMessage("Give either 'argv' or 'command', not both.");
            RuleFor(x => x.Entrypoint).MaximumLength(500);
            RuleFor(x => x.Env).Must(e => e!.Count <= 200).When(x => x.Env is not null)
                .WithMessage("'env' may hold at most 200 entries.");
            RuleForEach(x => x.Env).NotNull().WithMessage("Each env entry must be an object {key, value, secret}.");
            RuleForEach(x => x.Env).ChildRules(entry =>
            {
                entry.RuleFor(e => e.Key).NotEmpty().Matches("^[A-Za-z_][A-Za-z0-9_]{0,255}$")
                    .WithMessage("Env keys must be identifiers: a letter or '_', then letters, digits or '_' (at most 256).");
                entry.RuleFor(e => e.Value).NotNull().MaximumLength(32 * 1024);
            });
            RuleFor(x => x.Env).Must(e => e!.Where(v => v?.Key is not null).GroupBy(v => v.Key).All(g => g.Count() == 1))
                .When(x => x.Env is not null)
                .WithMessage("Env keys must be unique.");
            RuleFor(x => x.Labels).Must(l => l!.Count <= 64).When(x => x.Labels is not null)
                .WithMessage("'labels' may hold at most 64 entries.");
            RuleForEach(x => x.Labels).Must(l => l.Key.Length is > 0 and <= 63 && l.Value is not null && l.Value.Length <= 256)
                .WithMessage("Label keys must be 1–63 characters and values strings of at most 256.");
            RuleFor(x => x.PreviousRun).Must(RunId.IsValid).When(x => x.PreviousRun is not null)
                .WithMessage("'previous_run' must be a run id (YYYYMMDD-HHMMSS-<16 hex>).");
        }
    }
}

/// <summary>What <c>POST .../runs</c> carries: the run asked for, and its input files (already in storage).</summary>
public sealed record TriggerUpload(TriggerRun Request, IReadOnlyList<UploadedFile> Files);

public static class TriggerRunEndpoint
{
    [Authorize(Scopes.RunsWrite)]
    [WolverinePost("/v1/jobs/{job}/runs", OperationId = "triggerRun", Summary = "Trigger a run")]
    [Tags("Writing runs")]
    [Consumes(typeof(TriggerRun), "application/json", "multipart/form-data")]
    [ProducesResponseType<RunView>(StatusCodes.Status201Created)]
    public static async Task<IResult> Post(
        string job,
        TriggerUpload body,
        HttpContext http,
        IDocumentSession session,
        RunSecrets secrets,
        JsonBody json,
        RetentionPolicy retention,
        Idempotency idempotency,
        TimeProvider clock)
    {
        var (request, files) = (body.Request, body.Files);
        var (key, _) = Idempotency.KeyOf(http.Request);
        Idempotency.Pending? pending = null;
        if (key is not null)
        {
            // Files count by their content: part boundaries and order of upload differ between retries.
            var command = new { body = request, files = files.Select(f => new { f.Name, f.ContentType, f.Blob.Sha256 }).OrderBy(f => f.Name, StringComparer.Ordinal) };
            (var earlier, pending) = await idempotency.BeginAsync(session, http, $"job:{job}", key, command, json.SerializerOptions, http.RequestAborted);
            if (earlier is not null)
            {
                return earlier;
            }
        }

        var trigger = new Trigger(job, request.Trigger, request.Source, request.Input, request.Argv, request.Command, request.Entrypoint,
            [.. (request.Env ?? []).Select(e => new EnvVar(e.Key!, e.Value!, e.Secret))], request.Labels, request.PreviousRun, [.. files.Select(f => f.Describe())]);
        var triggered = RunDecider.Trigger(trigger, http.User.Actor(), clock.GetUtcNow(), secrets.ScrubberOf, secrets.Seal);
        session.Events.StartStream<Run>(triggered.RunId, triggered);
        if (files.Count > 0)
        {
            RunFileStore.QueueReplace(session, triggered.RunId, RunFileStore.Input, files);
        }

        var run = Run.Fold(null, triggered);
        var view = RunView.From(run, retention);
        http.Response.Headers.ETag = ETags.Of(run.Version);
        if (pending is not null)
        {
            idempotency.Remember(session, pending, StatusCodes.Status201Created, run.Version, view, json.SerializerOptions, view.Uri);
        }
        return Results.Created(view.Uri, view);
    }

    /// <summary>
    /// The run asked for, as JSON or as multipart with input files (stored as they arrive), validated. A job
    /// name or an Idempotency-Key that cannot be right is refused before any byte is stored.
    /// </summary>
    public static async Task<(TriggerUpload? Body, IResult? Problem)> ReadBodyAsync(HttpContext http)
    {
        var job = (string)http.Request.RouteValues["job"]!;
        if (!JobName.IsValid(job))
        {
            return (null, Problems.Invalid("job", $"'{job}' is not a job name; use {JobName.Rule}."));
        }
        if (Idempotency.KeyOf(http.Request) is (_, { } badKey))
        {
            return (null, badKey);
        }
        var services = http.RequestServices;
        var json = services.GetRequiredService<JsonBody>();
        TriggerRun? request;
        IReadOnlyList<UploadedFile> files = [];
        if (Uploads.IsMultipart(http.Request))
        {
            // Input files make this a transfer: Kestrel's minimum data rate and the body cap bound it, not the time-out.
            http.Features.Get<IHttpRequestTimeoutFeature>()?.DisableTimeout();
            var limit = services.GetRequiredService<IOptions<RunsOptions>>().Value.Limits.MaxTriggerBodyBytes;
            (request, files, var problem) = await TriggerForm.ReadAsync(http.Request, json, limit, services.GetRequiredService<NpgsqlDataSource>());
            if (problem is not null)
            {
                return (null, problem);
            }
        }
        else
        {
            (request, var problem) = await json.ReadAsync<TriggerRun>(http.Request, required: true);
            if (problem is not null)
            {
                return (null, problem);
            }
        }
        return RunWrites.Validate(request, services) is (_, { } invalid) ? (null, invalid) : (new TriggerUpload(request!, files), null);
    }
}

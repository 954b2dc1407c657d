using System.Security.Cryptography;
using System.Text.Json;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Http.Timeouts;
using Npgsql;
using Microsoft.Extensions.Options;
using Runs.Projections;
using Runs.Domain;
using Runs.Host.Access;
using Runs.Host.Http;
using Runs.Host.Retention;
using Runs.Host.Runs.Reading;
using Wolverine.Http;

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
        public Validator()
        {
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

public static class TriggerRunEndpoint
{
    [WolverinePost("/v1/jobs/{job}/runs", OperationId = "triggerRun", Summary = "Trigger a run")]
    [Tags("Writing runs")]
    [Consumes(typeof(TriggerRun), "application/json", "multipart/form-data")]
    [ProducesResponseType<RunView>(StatusCodes.Status201Created)]
    public static async Task<IResult> Post(
        string job,
        HttpContext http,
        JsonBody json,
        IDocumentSession session,
        RunSecrets secrets,
        IOptions<RunsOptions> options,
        NpgsqlDataSource database,
        RetentionPolicy retention,
        TimeProvider clock)
    {
        if (http.User.RefuseUnlessScope(Scopes.RunsWrite) is { } forbidden)
        {
            return forbidden;
        }
        if (!JobName.IsValid(job))
        {
            return Problems.Invalid("job", $"'{job}' is not a job name; use {JobName.Rule}.");
        }
        if (http.User.Refuse(Scopes.RunsWrite, job) is { } refused)
        {
            return refused;
        }
        string? key = http.Request.Headers[IdempotentTrigger.Header];
        if (key is not null && !IdempotentTrigger.IsUsableKey(key))
        {
            return Problems.Invalid(IdempotentTrigger.Header, "Idempotency-Key must be 1–255 printable ASCII characters.");
        }

        TriggerRun? body;
        IReadOnlyList<UploadedFile> files = [];
        string fingerprint;
        if (Uploads.IsMultipart(http.Request))
        {
            // Input files make this a transfer: Kestrel's minimum data rate and the body cap bound it, not the time-out.
            http.Features.Get<IHttpRequestTimeoutFeature>()?.DisableTimeout();
            (body, files, fingerprint, var problem) = await TriggerForm.ReadAsync(http.Request, json, options.Value.Limits.MaxTriggerBodyBytes, database);
            if (problem is not null)
            {
                return problem;
            }
        }
        else
        {
            (body, var bytes, var problem) = await json.ReadWithBytesAsync<TriggerRun>(http.Request, required: true);
            if (problem is not null)
            {
                return problem;
            }
            // The same JSON with other spacing is the same request.
            fingerprint = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
                System.Text.Json.Nodes.JsonNode.Parse(bytes)?.ToJsonString() ?? "null")));
        }
        if (new TriggerRun.Validator().Validate(body!) is { IsValid: false } validation)
        {
            return Problems.Invalid(validation);
        }

        var now = clock.GetUtcNow();
        IdempotentTrigger? remembered = null;
        var firstUseOfKey = false;
        if (key is not null)
        {
            var id = IdempotentTrigger.IdFor(http.User.FindFirst(BearerTokens.TokenIdClaim)!.Value, job, key);
            remembered = await session.LoadAsync<IdempotentTrigger>(id, http.RequestAborted);
            if (remembered is { } earlier && earlier.ExpiresOn > now)
            {
                return earlier.Fingerprint == fingerprint
                    ? Replay(http, earlier)
                    : Problems.Conflict("This Idempotency-Key was used with a different request body; use a new key for a new run.");
            }
            firstUseOfKey = remembered is null;
            remembered ??= new IdempotentTrigger { Id = id };
        }

        var triggered = Decide(job, body!, files, http.User.Actor(), now, secrets);
        session.Events.StartStream<Run>(triggered.RunId, triggered);
        if (files.Count > 0)
        {
            RunFileStore.QueueReplace(session, triggered.RunId, RunFileStore.Input, files);
        }

        var run = Run.Fold(null, triggered);
        var view = RunView.From(run, retention);
        http.Response.Headers.ETag = ETags.Of(run.Version);
        if (remembered is not null)
        {
            remembered.Fingerprint = fingerprint;
            remembered.Status = StatusCodes.Status201Created;
            remembered.Location = view.Uri;
            remembered.Response = JsonSerializer.Serialize(view, json.SerializerOptions);
            remembered.ExpiresOn = now + options.Value.Idempotency.KeyLifetime;
            // Insert, not upsert, for a new key: a concurrent twin fails on commit instead of starting a second run.
            if (firstUseOfKey)
            {
                session.Insert(remembered);
            }
            else
            {
                session.Store(remembered);
            }
        }
        return Results.Created(view.Uri, view);
    }

    private static IResult Replay(HttpContext http, IdempotentTrigger earlier)
    {
        http.Response.Headers.Location = earlier.Location;
        http.Response.Headers.ETag = ETags.Of(1);
        http.Response.Headers["Idempotent-Replayed"] = "true";
        return Results.Content(earlier.Response, "application/json; charset=utf-8", statusCode: earlier.Status);
    }

    public static Triggered Decide(
        string job, TriggerRun body, IReadOnlyList<UploadedFile> files, string actor, DateTimeOffset now, RunSecrets secrets) => new(
        RunId: RunId.New(now),
        Job: job,
        Trigger: body.Trigger ?? "api",
        Source: body.Source,
        Input: body.Input,
        Argv: body.Argv,
        Command: body.Command,
        Entrypoint: body.Entrypoint,
        Env: [.. (body.Env ?? []).Select(e => new EnvVar(e.Key!, e.Secret ? secrets.Seal(e.Value!) : e.Value!, e.Secret))],
        Labels: body.Labels ?? new Dictionary<string, string>(),
        PreviousRun: body.PreviousRun,
        InputFiles: [.. files.Select(f => f.Describe())],
        CreatedBy: actor,
        At: now);
}

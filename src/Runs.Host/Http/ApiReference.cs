
namespace Runs.Host.Http;

/// <summary>
/// What a client meets before its first call, in one place: the document's title and introduction,
/// the bearer scheme every /v1 operation needs, the tags in the order the API is used, the
/// operational endpoints (which need no token), and the /docs page that renders it all.
/// Summaries and operation ids stay on the endpoints themselves.
/// </summary>
public static class ApiReference
{
    public const string DocumentPath = "/openapi/v1.json";

    /// <summary>Tags in reading order: a runner writes a run before anyone reads it.</summary>
    public static readonly IReadOnlyList<(string Name, string Description)> Tags =
    [
        ("Writing runs", "Trigger a run and move it through its life: start, pause, continue, succeed, fail, cancel, reject. Scope `runs:write` on the job."),
        ("Reading runs", "A run, its status and stats, its input files, and pages of runs per job or across jobs. Scope `runs:read` on the job."),
        ("Logs and telemetry", "Append and read log lines (plain text, JSON, or a live event stream) and telemetry summaries and samples."),
        ("Outputs", "The files a run produced: attach them (`runs:write`) and download them (`runs:read`)."),
        ("Auditing", "A run's event history (each event with its hash in the run's chain), the run as it stood at a version or a time, and a check of its chain and content. Scope `runs:read`."),
        ("Ledger", "Signed checkpoints over every run's head, the public keys that check them, a check of the whole store against the newest checkpoint, and exports for import elsewhere. Scope `admin` (the keys: any token)."),
        ("Jobs and statistics", "Jobs visible to the token, per-job aggregates and history, daily statistics. Scope `runs:read`."),
        ("Webhooks", "Endpoints that receive signed Standard Webhooks messages when runs end, and their deliveries. Scope `webhooks:manage`."),
        ("Tokens", "API tokens, their scopes and job grants. Scope `admin`."),
        ("Operations", "Health and metrics for load balancers and Prometheus. No token."),
    ];

    public static void Describe(OpenApiOptions options)
    {
        options.AddOperationTransformer((operation, context, _) =>
        {
            // The fallback policy asks every endpoint for a token unless it allows anonymous callers.
            if (!context.Description.ActionDescriptor.EndpointMetadata.OfType<IAllowAnonymous>().Any())
            {
                operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerTokens.SchemeName, context.Document)] = [] }];
            }
            return Task.CompletedTask;
        });
        options.AddDocumentTransformer((document, context, _) =>
        {
            var limits = context.ApplicationServices.GetRequiredService<IOptions<RunsOptions>>().Value;
            document.Info = new OpenApiInfo
            {
                Title = "Runs ledger API",
                Version = "v1",
                Summary = "An event-sourced ledger of job runs: runners write them, clients read them, auditors replay them.",
                Description = Introduction(limits),
            };
            document.Servers = document.Servers?.Select(s => new OpenApiServer { Url = s.Url?.TrimEnd('/'), Description = "This service" }).ToList();
            document.AddComponent<IOpenApiSecurityScheme>(BearerTokens.SchemeName, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "runs_…",
                Description = "A token from `POST /v1/tokens` or the `tokens create` command. Its scopes ("
                    + string.Join(", ", Scopes.All.Select(scope => $"`{scope}`"))
                    + ") say what it may do, its job grants (names, `*` or globs) which jobs it sees.",
            });
            OperationalPaths.Add(document);
            document.Tags = OrderedTags(document);
            return Task.CompletedTask;
        });
    }

    /// <summary>Declared tags first, in their order; a tag an endpoint uses but nobody declared still shows, last.</summary>
    private static HashSet<OpenApiTag> OrderedTags(OpenApiDocument document)
    {
        var used = document.Paths.Values
            .SelectMany(path => path.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>())
            .SelectMany(operation => operation.Tags ?? Enumerable.Empty<OpenApiTagReference>())
            .Select(tag => tag.Name)
            .OfType<string>()
            .ToHashSet();
        var tags = Tags.Where(t => used.Contains(t.Name)).Select(t => new OpenApiTag { Name = t.Name, Description = t.Description }).ToList();
        tags.AddRange(used.Except(Tags.Select(t => t.Name)).Order().Select(name => new OpenApiTag { Name = name }));
        return [.. tags];
    }

    private static string Introduction(RunsOptions options)
    {
        var (limits, sse) = (options.Limits, options.Sse);
        return $"""
        Every execution of a job is a **run**, and every run is an append-only stream of events
        (`Triggered`, `Started`, `LogAppended`, `Succeeded`, …). Runners write runs through this API,
        clients read what the events add up to, and auditors replay any run's history.

        **Authentication.** Every `/v1` call needs `Authorization: Bearer <token>`. A missing, unknown,
        revoked or expired token answers 401; a token without the operation's scope answers 403; a job
        outside the token's grants answers 404, so its existence is not revealed.

        **Conventions.** JSON uses `snake_case`; times are RFC 3339 UTC with milliseconds; fields without
        a value are present as `null`. Errors are `application/problem+json` (RFC 9457) and say what is
        wrong (`errors` names each invalid field). Reads of a run return an `ETag` and honour
        `If-None-Match` (304); writes to a run honour `If-Match` (412 on a mismatch, nothing changed).
        Triggering honours `Idempotency-Key`.

        **Limits** on this server (answers are problem+json too):
        - requests per token: {limits.RequestsPerSecond} a second, bursts of {limits.Burst} (429 with `Retry-After`);
        - bodies: JSON {Size(limits.MaxJsonBodyBytes)}, multipart trigger {Size(limits.MaxTriggerBodyBytes)}, log append {Size(limits.MaxLogBodyBytes)} (413);
        - query string: {limits.MaxQueryStringLength} characters (414); request headers: {Size(limits.MaxRequestHeaderBytes)} (431);
        - handling time: {limits.RequestTimeout.TotalSeconds:0.#} s (503). Transfers, exports and the ledger check are exempt (output and input files up and down, multipart triggers, whole logs, job history, live log streams); a client that sends a body slower than {limits.MinRequestBodyBytesPerSecond:0} bytes/s or reads an answer slower than {limits.MinResponseBytesPerSecond:0} bytes/s is disconnected after a 5 s grace;
        - live log streams: {sse.MaxStreamsPerToken} open at once per token and {sse.MaxStreams} on this server (429 with `Retry-After`); each ends after {sse.MaxLifetime} with `event: reconnect` (resume with its id as `Last-Event-ID`), and with `event: error` within {sse.TokenCheckInterval.TotalSeconds:0.#} s of its token being revoked or expiring;
        - a page of a run's events: at most about {Size(options.Events.MaxPageBytes)} of JSON (the page ends with the event that reaches it; `next_page_token` continues).
        """;
    }

    private static string Size(long bytes) => bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MiB" : $"{bytes / 1024.0:0.#} KiB";

    /// <summary>The /docs page: summaries in the sidebar, a place for the token, nothing that calls home.</summary>
    public static void Page(ScalarOptions scalar) => scalar
        .WithTitle("Runs ledger API")
        .WithOpenApiRoutePattern(DocumentPath)
        .WithOperationTitleSource(OperationTitleSource.Summary)
        .AddPreferredSecuritySchemes(BearerTokens.SchemeName)
        .HideDeveloperTools()
        .HideClientButton()
        .DisableAgent()
        .DisableMcp()
        .DisableTelemetry()
        .DisableDefaultFonts()
        // The document itself, as served, rather than a copy converted in the browser.
        .WithDirectDocumentDownload()
        // The sidebar's "Powered by Scalar" advertisement link.
        .WithCustomCss("a[href*='utm_source=powered-by'] { display: none; }");
}

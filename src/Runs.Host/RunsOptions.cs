
namespace Runs.Host;

/// <summary>The service's own settings, the <c>Runs</c> configuration section.</summary>
public sealed class RunsOptions
{
    public const string Section = "Runs";

    public LimitsOptions Limits { get; set; } = new();
    public SecretsOptions Secrets { get; set; } = new();
    public IdempotencyOptions Idempotency { get; set; } = new();
    public LogsOptions Logs { get; set; } = new();
    public SseOptions Sse { get; set; } = new();
    public EventsOptions Events { get; set; } = new();
    public DatabaseOptions Database { get; set; } = new();
    public TelemetryOptions Telemetry { get; set; } = new();
    public Webhooks.WebhooksOptions Webhooks { get; set; } = new();
    public Retention.RetentionOptions Retention { get; set; } = new();
    public Retention.OutputsOptions Outputs { get; set; } = new();
    public Operations.DurabilityOptions Durability { get; set; } = new();
    public Ledger.LedgerOptions Ledger { get; set; } = new();
}

public sealed class SseOptions
{
    /// <summary>A live stream sends a <c>: ping</c> comment when nothing else was sent for this long.</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Live streams one host serves at once; past it a new stream answers 429.</summary>
    public int MaxStreams { get; set; } = 500;

    /// <summary>Live streams one token may hold open at once; past it a new stream answers 429.</summary>
    public int MaxStreamsPerToken { get; set; } = 20;

    /// <summary>A stream ends after this long with <c>event: reconnect</c>; the client resumes where it was.</summary>
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often an open stream checks that its token is still valid; revoked or expired ends it with <c>event: error</c>.</summary>
    public TimeSpan TokenCheckInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Log text (UTF-8 bytes) the host keeps per watched run for its live streams to share.</summary>
    public long TailBytes { get; set; } = 1024 * 1024;
}

public sealed class EventsOptions
{
    /// <summary>A page of <c>GET …/events</c> ends with the event that reaches this many bytes of JSON; next_page_token continues.</summary>
    public long MaxPageBytes { get; set; } = 4 * 1024 * 1024;
}

public sealed class DatabaseOptions
{
    /// <summary>Connections of the pool that only token lookups use, so that no other work can starve authentication.</summary>
    public int TokenPoolSize { get; set; } = 10;

    /// <summary>
    /// Whether a start compares the schema with the database and migrates it (about a second). Off, a deployment
    /// runs <c>db-apply</c> first and the host trusts the schema it finds.
    /// </summary>
    public bool ApplySchemaOnStart { get; set; } = true;
}

public sealed class TelemetryOptions
{
    /// <summary>Past this many samples a run's series is downsampled, never truncated.</summary>
    public int MaxSamplesPerRun { get; set; } = 2000;

    /// <summary>Distinct field names a run's samples may use; samples naming one more answer 400.</summary>
    public int MaxFieldsPerRun { get; set; } = Domain.TelemetryLimits.Default.MaxFieldsPerRun;

    /// <summary>Keys a run's telemetry summary may hold once merged; a patch past it answers 400.</summary>
    public int MaxSummaryKeys { get; set; } = Domain.TelemetryLimits.Default.MaxSummaryKeys;

    /// <summary>Bytes (compact JSON) a run's merged telemetry summary may hold; a patch past it answers 400.</summary>
    public long MaxSummaryBytes { get; set; } = Domain.TelemetryLimits.Default.MaxSummaryBytes;

    public Domain.TelemetryLimits Limits => new(MaxFieldsPerRun, MaxSummaryKeys, MaxSummaryBytes);
}

public sealed class LogsOptions
{
    public long MaxLinesPerRun { get; set; } = 100_000;
    public int MaxLineLength { get; set; } = 16 * 1024;
    public int MaxLinesPerRequest { get; set; } = 5_000;

    /// <summary>
    /// Characters of a run's secrets, in all their forms, that scrubbing looks for: the values as sent
    /// first, then URL-, JSON- and base64-encoded, shortest secrets first. Bounds what each write costs.
    /// </summary>
    public int MaxSecretFormChars { get; set; } = Domain.Scrubber.DefaultMaxFormChars;

    /// <summary>Log reads and streams fetch this many lines at most per query, releasing the connection in between.</summary>
    public int ReadPageLines { get; set; } = 500;

    /// <summary>…and at most this much log text (UTF-8 bytes) per query; a page always holds at least one line.</summary>
    public long ReadPageBytes { get; set; } = 512 * 1024;

    /// <summary>
    /// With more than 0, appends commit in groups (<c>GroupCommit</c>): this many group transactions may be open
    /// at once, each run's appends always in the same lane… With 0 (the default: grouping measured slower on the
    /// benchmark machine, docs/benchmarks.md) each append commits alone, in its request.
    /// </summary>
    public int CommitLanes { get; set; }

    /// <summary>…each holding at most this many appends.</summary>
    public int MaxAppendsPerCommit { get; set; } = 64;

    /// <summary>
    /// Above 0, a transaction holding at least this many log lines (one large append, or a group of appends)
    /// writes them with one binary COPY instead of an insert per append. With 0 (the default: COPY measured no
    /// faster on the benchmark machine, docs/benchmarks.md) it never does.
    /// </summary>
    public int CopyFromLines { get; set; }

    public Domain.LogLimits Limits => new(MaxLinesPerRun, MaxLineLength);
}

public sealed class LimitsOptions
{
    /// <summary>JSON command bodies larger than this answer 413.</summary>
    public long MaxJsonBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Multipart trigger bodies (input files included) larger than this answer 413.</summary>
    public long MaxTriggerBodyBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Log append bodies larger than this answer 413.</summary>
    public long MaxLogBodyBytes { get; set; } = 10L * 1024 * 1024;

    /// <summary>Sustained requests per second per token (per client address without a token).</summary>
    public int RequestsPerSecond { get; set; } = 200;

    /// <summary>Requests a token may send at once above the sustained rate.</summary>
    public int Burst { get; set; } = 400;

    /// <summary>Longer query strings answer 414.</summary>
    public int MaxQueryStringLength { get; set; } = 4096;

    /// <summary>Request headers larger than this in total answer 431.</summary>
    public int MaxRequestHeaderBytes { get; set; } = 16 * 1024;

    /// <summary>A request still being handled after this long is cut off (503); live streams and transfers (file uploads and downloads, whole logs, job history) are exempt.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A client must send its request headers within this time.</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A client reading a response more slowly than this (after a 5 s grace) is disconnected.</summary>
    public double MinResponseBytesPerSecond { get; set; } = 4096;

    /// <summary>A client sending a body more slowly than this (after a 5 s grace) is disconnected.</summary>
    public double MinRequestBodyBytesPerSecond { get; set; } = 4096;

    /// <summary>
    /// How deeply client JSON that is stored as sent (a run's input, telemetry summary values, samples) may
    /// nest; deeper values answer 400. Readers wrap it a few levels deeper, so it stays well below the
    /// 64 levels JSON readers and writers allow.
    /// </summary>
    public int MaxJsonDepth { get; set; } = 32;

    /// <summary>Bytes (compact JSON) a run's <c>input</c> may hold, from a JSON or multipart trigger; larger answers 400.</summary>
    public long MaxInputBytes { get; set; } = 64 * 1024;
}

public sealed class SecretsOptions
{
    /// <summary>Id of the key that encrypts new secret env values.</summary>
    public string? CurrentKeyId { get; set; }

    /// <summary>Key id → base64 of 32 random bytes. Retired keys stay here until no secret uses them.</summary>
    public Dictionary<string, string> Keys { get; set; } = [];
}

public sealed class IdempotencyOptions
{
    public TimeSpan KeyLifetime { get; set; } = TimeSpan.FromHours(24);
}

/// <summary>Start-up refuses bad settings with a message naming the key.</summary>
public sealed class RunsOptionsValidation : IValidateOptions<RunsOptions>
{
    /// <summary>Stored JSON sits a few levels inside request bodies and answers, which readers cap at 64.</summary>
    private const int MaxStoredJsonDepth = 56;

    public ValidateOptionsResult Validate(string? name, RunsOptions options)
    {
        var failures = new List<string>();
        void Refuse(bool wrong, string failure)
        {
            if (wrong)
            {
                failures.Add(failure);
            }
        }

        Refuse(options.Limits.MaxJsonBodyBytes is < 1024 or > 64L * 1024 * 1024, "Runs:Limits:MaxJsonBodyBytes must be between 1024 and 67108864.");
        Refuse(options.Limits.MaxTriggerBodyBytes < 1024, "Runs:Limits:MaxTriggerBodyBytes must be at least 1024.");
        Refuse(options.Limits.MaxLogBodyBytes < 1024, "Runs:Limits:MaxLogBodyBytes must be at least 1024.");
        Refuse(options.Limits.RequestsPerSecond < 1 || options.Limits.Burst < 1, "Runs:Limits:RequestsPerSecond and Runs:Limits:Burst must be at least 1.");
        Refuse(options.Limits.MaxQueryStringLength < 256 || options.Limits.MaxRequestHeaderBytes < 4096, "Runs:Limits:MaxQueryStringLength must be at least 256 and Runs:Limits:MaxRequestHeaderBytes at least 4096.");
        Refuse(options.Limits.RequestTimeout < TimeSpan.FromSeconds(1) || options.Limits.RequestHeadersTimeout < TimeSpan.FromSeconds(1), "Runs:Limits:RequestTimeout and Runs:Limits:RequestHeadersTimeout must be at least 00:00:01.");
        Refuse(options.Limits.MinRequestBodyBytesPerSecond < 0 || options.Limits.MinResponseBytesPerSecond < 0, "Runs:Limits:MinRequestBodyBytesPerSecond and Runs:Limits:MinResponseBytesPerSecond must not be negative.");
        Refuse(options.Idempotency.KeyLifetime < TimeSpan.FromMinutes(1), "Runs:Idempotency:KeyLifetime must be at least 00:01:00.");
        Refuse(options.Logs.MaxLinesPerRun < 1, "Runs:Logs:MaxLinesPerRun must be at least 1.");
        Refuse(options.Logs.MaxLineLength < 80, "Runs:Logs:MaxLineLength must be at least 80.");
        Refuse(options.Logs.MaxLinesPerRequest < 1, "Runs:Logs:MaxLinesPerRequest must be at least 1.");
        Refuse(options.Logs.CommitLanes < 0 || options.Logs.MaxAppendsPerCommit < 1, "Runs:Logs:CommitLanes must not be negative and Runs:Logs:MaxAppendsPerCommit must be at least 1.");
        Refuse(options.Logs.CopyFromLines < 0, "Runs:Logs:CopyFromLines must not be negative (0 turns COPY off).");
        Refuse(options.Logs.MaxSecretFormChars < 0, "Runs:Logs:MaxSecretFormChars must not be negative.");
        Refuse(options.Logs.ReadPageLines < 1 || options.Logs.ReadPageBytes < 1024, "Runs:Logs:ReadPageLines must be at least 1 and Runs:Logs:ReadPageBytes at least 1024.");
        Refuse(options.Sse.PingInterval < TimeSpan.FromMilliseconds(100), "Runs:Sse:PingInterval must be at least 00:00:00.1.");
        Refuse(options.Sse.MaxStreams < 1 || options.Sse.MaxStreamsPerToken < 1, "Runs:Sse:MaxStreams and Runs:Sse:MaxStreamsPerToken must be at least 1.");
        Refuse(options.Sse.MaxLifetime < TimeSpan.FromSeconds(1) || options.Sse.TokenCheckInterval < TimeSpan.FromMilliseconds(100), "Runs:Sse:MaxLifetime must be at least 00:00:01 and Runs:Sse:TokenCheckInterval at least 00:00:00.1.");
        Refuse(options.Sse.TailBytes < 0, "Runs:Sse:TailBytes must not be negative.");
        Refuse(options.Events.MaxPageBytes < 1024, "Runs:Events:MaxPageBytes must be at least 1024.");
        Refuse(options.Database.TokenPoolSize < 1, "Runs:Database:TokenPoolSize must be at least 1.");
        Refuse(options.Telemetry.MaxSamplesPerRun < 3, "Runs:Telemetry:MaxSamplesPerRun must be at least 3.");
        Refuse(options.Telemetry.MaxFieldsPerRun is < 1 or > 1000, "Runs:Telemetry:MaxFieldsPerRun must be between 1 and 1000.");
        Refuse(options.Telemetry.MaxSummaryKeys < 1 || options.Telemetry.MaxSummaryBytes < 1024, "Runs:Telemetry:MaxSummaryKeys must be at least 1 and Runs:Telemetry:MaxSummaryBytes at least 1024.");
        Refuse(options.Limits.MaxJsonDepth is < 1 or > MaxStoredJsonDepth, $"Runs:Limits:MaxJsonDepth must be between 1 and {MaxStoredJsonDepth}.");
        Refuse(options.Limits.MaxInputBytes < 16, "Runs:Limits:MaxInputBytes must be at least 16.");
        if (options.Webhooks.Problem() is { } webhooks)
        {
            failures.Add(webhooks);
        }
        Refuse(options.Retention.Default <= TimeSpan.Zero || options.Retention.ByJob.Values.Concat(options.Retention.ByOutcome.Values).Any(p => p <= TimeSpan.Zero), "Runs:Retention periods (Default, ByJob:<job>, ByOutcome:<status>) must be positive.");
        if (options.Retention.ByOutcome.Keys.FirstOrDefault(k => !Domain.RunStatusNames.TryParse(k.ToLowerInvariant(), out var s) || !Domain.RunStatusNames.IsTerminal(s)) is { } outcome)
        {
            failures.Add($"Runs:Retention:ByOutcome:{outcome} names no outcome; use succeeded, failed, canceled or rejected.");
        }
        Refuse(options.Retention.SweepInterval < TimeSpan.FromSeconds(1), "Runs:Retention:SweepInterval must be at least 00:00:01.");
        Refuse(options.Outputs.MaxBytesPerFile < 1 || options.Outputs.MaxBytesPerRun < 1 || options.Outputs.MaxFilesPerRun < 1, "Runs:Outputs:MaxBytesPerFile, MaxBytesPerRun and MaxFilesPerRun must be positive.");
        failures.AddRange(options.Durability.Problems());
        failures.AddRange(options.Ledger.Problems());
        var secrets = options.Secrets;
        if (string.IsNullOrWhiteSpace(secrets.CurrentKeyId))
        {
            failures.Add("Runs:Secrets:CurrentKeyId is required: the id of the key (in Runs:Secrets:Keys) that encrypts secret env values.");
        }
        else if (!secrets.Keys.ContainsKey(secrets.CurrentKeyId))
        {
            failures.Add($"Runs:Secrets:Keys:{secrets.CurrentKeyId} is missing: Runs:Secrets:CurrentKeyId names it.");
        }
        foreach (var (id, value) in secrets.Keys)
        {
            if (!IsKey(value))
            {
                failures.Add($"Runs:Secrets:Keys:{id} must be the base64 of exactly 32 bytes (e.g. `openssl rand -base64 32`).");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsKey(string value)
    {
        Span<byte> buffer = stackalloc byte[48];
        return Convert.TryFromBase64String(value, buffer, out var written) && written == 32;
    }
}

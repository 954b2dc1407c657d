
namespace Runs.Host.Runs;

/// <summary>
/// The first answer to a write sent with an <c>Idempotency-Key</c>, kept so that a retry with the same key and
/// request gets the same answer and changes nothing. Keys are scoped to the token and the job (trigger) or the
/// run (every write to it).
/// </summary>
public sealed class IdempotentAnswer
{
    public string Id { get; set; } = "";
    public string Fingerprint { get; set; } = "";
    /// <summary>The secret key the fingerprint was made with (rotation leaves earlier records checkable).</summary>
    public string FingerprintKeyId { get; set; } = "";
    public int Status { get; set; }
    public string? Location { get; set; }
    public long Version { get; set; }
    public string Response { get; set; } = "";
    public DateTimeOffset ExpiresOn { get; set; }
}

/// <summary>
/// <c>Idempotency-Key</c> for every write, in the write's own transaction: a retry after a lost answer gets the
/// first answer again (<c>Idempotent-Replayed: true</c>), a reuse of the key for another request is a 409.
/// </summary>
public sealed class Idempotency(IOptions<RunsOptions> options, TimeProvider clock)
{
    public const string Header = "Idempotency-Key";

    // The fingerprint of a request can include secret values: keyed, it is no guessing oracle for whoever
    // reads the database. The keys are derived from the secret-encryption keys in configuration.
    private readonly Dictionary<string, byte[]> _fingerprintKeys = options.Value.Secrets.Keys.ToDictionary(
        k => k.Key,
        k => HKDF.DeriveKey(HashAlgorithmName.SHA256, Convert.FromBase64String(k.Value), 32, info: "runs idempotency fingerprint"u8.ToArray()));

    private readonly string _currentKeyId = options.Value.Secrets.CurrentKeyId!;

    /// <summary>The key the request carries (null without one), or the problem with it.</summary>
    public static (string? Key, IResult? Problem) KeyOf(HttpRequest request)
    {
        string? key = request.Headers[Header];
        return key is null || key.Length is > 0 and <= 255 && key.All(c => c is >= ' ' and <= '~')
            ? (key, null)
            : (null, Problems.Invalid(Header, "Idempotency-Key must be 1–255 printable ASCII characters."));
    }

    /// <summary>
    /// Looks the key up: the earlier answer replayed, a 409 for another request under the key, or (neither)
    /// what to <see cref="Remember"/> once this request has its answer. Two requests are the same when their
    /// method, path and command as read are (not their spacing, field order or multipart boundaries).
    /// </summary>
    public async Task<(IResult? Answer, Pending? Pending)> BeginAsync(
        IDocumentSession session, HttpContext http, string scope, string key, object? command, JsonSerializerOptions json, CancellationToken cancellation)
    {
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            $"{http.User.FindFirst(BearerTokens.TokenIdClaim)!.Value}\n{scope}\n{key}")));
        var request = Encoding.UTF8.GetBytes(
            $"{http.Request.Method} {http.Request.Path}\n{(command is null ? "" : JsonSerializer.Serialize(command, command.GetType(), json))}");
        var earlier = await session.LoadAsync<IdempotentAnswer>(id, cancellation);
        if (earlier is not null && earlier.ExpiresOn > clock.GetUtcNow())
        {
            return _fingerprintKeys.TryGetValue(earlier.FingerprintKeyId, out var then)
                && earlier.Fingerprint == Fingerprint(then, request)
                ? (Replay(http, earlier), null)
                : (Problems.Conflict("This Idempotency-Key was used with a different request; use a new key for a new request."), null);
        }
        return (null, new Pending(id, Fingerprint(_fingerprintKeys[_currentKeyId], request), _currentKeyId, Expired: earlier is not null));
    }

    private static string Fingerprint(byte[] key, byte[] request) => Convert.ToHexStringLower(HMACSHA256.HashData(key, request));

    /// <summary>Keeps the answer in the request's session, so it commits with the write or not at all.</summary>
    public void Remember(IDocumentSession session, Pending pending, int status, long version, object response, JsonSerializerOptions json, string? location = null)
    {
        if (pending.Expired)
        {
            // Delete and insert, never upsert: a concurrent twin then fails on commit instead of writing twice.
            session.Delete<IdempotentAnswer>(pending.Id);
        }
        session.Insert(new IdempotentAnswer
        {
            Id = pending.Id,
            Fingerprint = pending.Fingerprint,
            FingerprintKeyId = pending.KeyId,
            Status = status,
            Location = location,
            Version = version,
            Response = JsonSerializer.Serialize(response, response.GetType(), json),
            ExpiresOn = clock.GetUtcNow() + options.Value.Idempotency.KeyLifetime,
        });
    }

    private static IResult Replay(HttpContext http, IdempotentAnswer earlier)
    {
        if (earlier.Location is not null)
        {
            http.Response.Headers.Location = earlier.Location;
        }
        http.Response.Headers.ETag = ETags.Of(earlier.Version);
        http.Response.Headers["Idempotent-Replayed"] = "true";
        return Results.Content(earlier.Response, "application/json; charset=utf-8", statusCode: earlier.Status);
    }

    public sealed record Pending(string Id, string Fingerprint, string KeyId, bool Expired);
}

/// <summary>Removes expired idempotency records; several hosts doing it at once is harmless.</summary>
public sealed class IdempotencyCleanup(IDocumentStore store, TimeProvider clock, ILogger<IdempotencyCleanup> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    public static async Task RemoveExpiredAsync(IDocumentStore store, DateTimeOffset now, CancellationToken cancellation)
    {
        await using var session = store.LightweightSession();
        session.DeleteWhere<IdempotentAnswer>(t => t.ExpiresOn < now);
        await session.SaveChangesAsync(cancellation);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RemoveExpiredAsync(store, clock.GetUtcNow(), stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Removing expired idempotency keys failed; retrying in {Interval}.", Interval);
            }
        }
    }
}

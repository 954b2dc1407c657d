using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Runs.Host.Http;

/// <summary>
/// Limits that keep one client from hurting the others (<c>Runs:Limits</c>): a token bucket per token
/// (per address without one) answering 429 with Retry-After, query and header size caps (414, 431),
/// a deadline per request (transfers are exempt: Kestrel's minimum data rates and the size caps bound
/// them instead), Kestrel's guards against slow senders and readers, and caps on live streams.
/// </summary>
public static class AbuseLimits
{
    public static void AddAbuseLimits(this WebApplicationBuilder builder)
    {
        var limits = builder.Configuration.GetSection($"{RunsOptions.Section}:Limits").Get<LimitsOptions>() ?? new LimitsOptions();
        var sse = builder.Configuration.GetSection($"{RunsOptions.Section}:Sse").Get<SseOptions>() ?? new SseOptions();

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Per-route body limits are enforced by the readers (413 problem+json); this is the outer bound.
            kestrel.Limits.MaxRequestBodySize = Math.Max(limits.MaxTriggerBodyBytes, limits.MaxLogBodyBytes);
            kestrel.Limits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
            kestrel.Limits.MinRequestBodyDataRate = limits.MinRequestBodyBytesPerSecond > 0
                ? new MinDataRate(limits.MinRequestBodyBytesPerSecond, TimeSpan.FromSeconds(5))
                : null;
            // A client that stops reading holds a socket and a response's buffers; past the grace it is cut off.
            kestrel.Limits.MinResponseDataRate = limits.MinResponseBytesPerSecond > 0
                ? new MinDataRate(limits.MinResponseBytesPerSecond, TimeSpan.FromSeconds(5))
                : null;
            // Kestrel can only refuse these without a body; our middleware answers problem+json below them.
            kestrel.Limits.MaxRequestHeadersTotalSize = Math.Max(64 * 1024, limits.MaxRequestHeaderBytes * 2);
            kestrel.Limits.MaxRequestLineSize = Math.Max(16 * 1024, limits.MaxQueryStringLength * 2);
        });

        builder.Services.AddRateLimiter(rate =>
        {
            rate.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                if (!http.Request.Path.StartsWithSegments("/v1"))
                {
                    return RateLimitPartition.GetNoLimiter("operations");
                }
                var partition = http.User.FindFirst(BearerTokens.TokenIdClaim)?.Value
                    ?? "address:" + http.Connection.RemoteIpAddress;
                return RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limits.Burst,
                    TokensPerPeriod = limits.RequestsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            rate.AddPolicy(LiveStreamCaps.Name, new LiveStreamCaps(sse));
            rate.OnRejected = async (context, cancellation) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await Results.Problem(
                        detail: $"Too many requests for this token; retry after {seconds} s.",
                        statusCode: StatusCodes.Status429TooManyRequests,
                        title: "Too many requests.")
                    .ExecuteAsync(context.HttpContext);
            };
        });

        builder.Services.AddRequestTimeouts(timeouts =>
        {
            timeouts.DefaultPolicy = new RequestTimeoutPolicy
            {
                Timeout = limits.RequestTimeout,
                TimeoutStatusCode = StatusCodes.Status503ServiceUnavailable,
                WriteTimeoutResponse = http => Results.Problem(
                        detail: $"The request took longer than {limits.RequestTimeout} and was stopped.",
                        statusCode: StatusCodes.Status503ServiceUnavailable,
                        title: "Request timed out.")
                    .ExecuteAsync(http),
            };
        });
    }

    public static void UseAbuseLimits(this WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            var limits = http.RequestServices.GetRequiredService<IOptions<RunsOptions>>().Value.Limits;
            var headerBytes = http.Request.Headers.Sum(h => h.Key.Length + h.Value.Sum(v => v?.Length ?? 0) + 4);
            var refusal =
                http.Request.QueryString.Value?.Length > limits.MaxQueryStringLength
                    ? Results.Problem(
                        detail: $"The query string is longer than {limits.MaxQueryStringLength} characters.",
                        statusCode: StatusCodes.Status414UriTooLong,
                        title: "URI too long.")
                : headerBytes > limits.MaxRequestHeaderBytes
                    ? Results.Problem(
                        detail: $"The request headers are larger than {limits.MaxRequestHeaderBytes} bytes.",
                        statusCode: StatusCodes.Status431RequestHeaderFieldsTooLarge,
                        title: "Request headers too large.")
                : null;
            await (refusal is null ? next(http) : refusal.ExecuteAsync(http));
        });
    }
}

/// <summary>
/// Live streams stay open for up to <see cref="SseOptions.MaxLifetime"/>, each holding a socket, a wait
/// and some memory, so a token may hold <see cref="SseOptions.MaxStreamsPerToken"/> at once and a host
/// serves <see cref="SseOptions.MaxStreams"/>; past either a new stream answers 429 with Retry-After.
/// </summary>
public sealed class LiveStreamCaps(SseOptions sse) : IRateLimiterPolicy<string>
{
    public const string Name = "live-streams";

    /// <summary>Streams end one at a time, not on a schedule: a short wait is a fair guess.</summary>
    private const int RetryAfterSeconds = 5;

    private readonly ConcurrencyLimiter _host = new(new ConcurrencyLimiterOptions { PermitLimit = sse.MaxStreams, QueueLimit = 0 });

    public RateLimitPartition<string> GetPartition(HttpContext http) =>
        RateLimitPartition.Get(
            http.User.FindFirst(BearerTokens.TokenIdClaim)?.Value ?? "address:" + http.Connection.RemoteIpAddress,
            _ => RateLimiter.CreateChained(
                new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = sse.MaxStreamsPerToken, QueueLimit = 0 }),
                _host));

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => async (context, _) =>
    {
        var full = _host.GetStatistics()?.CurrentAvailablePermits == 0;
        context.HttpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        await Results.Problem(
                detail: full
                    ? $"This server already serves {sse.MaxStreams} live streams; retry after {RetryAfterSeconds} s."
                    : $"This token already has {sse.MaxStreamsPerToken} live streams open; close one or retry after {RetryAfterSeconds} s.",
                statusCode: StatusCodes.Status429TooManyRequests,
                title: "Too many live streams.")
            .ExecuteAsync(context.HttpContext);
    };
}

using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Runs.Host.Access;

namespace Runs.Host.Http;

/// <summary>
/// Limits that keep one client from hurting the others (<c>Runs:Limits</c>): a token bucket per token
/// (per address without one) answering 429 with Retry-After, query and header size caps (414, 431),
/// a deadline per request, and Kestrel's guards against slow senders.
/// </summary>
public static class AbuseLimits
{
    public static void AddAbuseLimits(this WebApplicationBuilder builder)
    {
        var limits = builder.Configuration.GetSection($"{RunsOptions.Section}:Limits").Get<LimitsOptions>() ?? new LimitsOptions();

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Per-route body limits are enforced by the readers (413 problem+json); this is the outer bound.
            kestrel.Limits.MaxRequestBodySize = Math.Max(limits.MaxTriggerBodyBytes, limits.MaxLogBodyBytes);
            kestrel.Limits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
            kestrel.Limits.MinRequestBodyDataRate = limits.MinRequestBodyBytesPerSecond > 0
                ? new MinDataRate(limits.MinRequestBodyBytesPerSecond, TimeSpan.FromSeconds(5))
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
            if (http.Request.QueryString.Value?.Length > limits.MaxQueryStringLength)
            {
                await Results.Problem(
                        detail: $"The query string is longer than {limits.MaxQueryStringLength} characters.",
                        statusCode: StatusCodes.Status414UriTooLong,
                        title: "URI too long.")
                    .ExecuteAsync(http);
                return;
            }
            var headerBytes = http.Request.Headers.Sum(h => h.Key.Length + h.Value.Sum(v => v?.Length ?? 0) + 4);
            if (headerBytes > limits.MaxRequestHeaderBytes)
            {
                await Results.Problem(
                        detail: $"The request headers are larger than {limits.MaxRequestHeaderBytes} bytes.",
                        statusCode: StatusCodes.Status431RequestHeaderFieldsTooLarge,
                        title: "Request headers too large.")
                    .ExecuteAsync(http);
                return;
            }
            await next(http);
        });
    }
}

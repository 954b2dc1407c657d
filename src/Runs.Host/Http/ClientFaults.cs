using Microsoft.AspNetCore.Diagnostics;

namespace Runs.Host.Http;

/// <summary>
/// Exceptions that are answers, not faults: a version that moved between fetch and commit (412 with
/// If-Match, else 409 to retry) and requests Kestrel refused (oversized or malformed). Never a 500.
/// </summary>
public sealed class ClientFaults : IExceptionHandler
{
    /// <summary>
    /// The database cannot serve this request right now: out of connections or resources, shutting down or
    /// restarting, refusing or dropping connections, or the pool has none free. Marten wraps what Npgsql
    /// throws, so the whole chain of inner exceptions is looked at.
    /// </summary>
    public static bool IsUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case Npgsql.PostgresException server:
                    return server.SqlState.StartsWith("53", StringComparison.Ordinal)
                        || server.SqlState.StartsWith("08", StringComparison.Ordinal)
                        || server.SqlState is "57P01" or "57P02" or "57P03";
                // Not an answer from the server: a refused or broken connection, a time-out, an exhausted pool.
                case Npgsql.NpgsqlException:
                    return true;
            }
        }
        return false;
    }

    private static IResult Overloaded(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "1";
        return Results.Problem(
            detail: "The database has no capacity for this request right now; nothing was changed. Retry shortly.",
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Service unavailable.");
    }

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
    {
        var answer = exception switch
        {
            ConcurrencyException when http.Request.Headers.IfMatch.Count > 0 =>
                Problems.PreconditionFailed("The run changed while this write was in flight; nothing was changed."),
            ConcurrencyException =>
                Problems.Conflict("Another write to this run committed first; nothing was changed. Retry."),
            DocumentAlreadyExistsException =>
                Problems.Conflict("A request with this Idempotency-Key was being handled at the same time; retry to get its answer."),
            Marten.Exceptions.StreamLockedException =>
                Problems.Conflict("Another write to this run holds it right now; nothing was changed. Retry."),
            _ when IsUnavailable(exception) => Overloaded(http),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                Problems.TooLarge(http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? 0),
            // Multipart readers refuse bodies past their structural limits (part headers, section lengths).
            InvalidDataException malformed =>
                Problems.Invalid("body", $"The body could not be read: {malformed.Message}"),
            BadHttpRequestException bad =>
                Results.Problem(detail: bad.Message, statusCode: bad.StatusCode, title: "Bad request."),
            _ => null,
        };
        if (answer is null || http.Response.HasStarted)
        {
            return false;
        }
        await answer.ExecuteAsync(http);
        return true;
    }
}

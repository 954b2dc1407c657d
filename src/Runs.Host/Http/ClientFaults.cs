using JasperFx;
using Microsoft.AspNetCore.Diagnostics;

namespace Runs.Host.Http;

/// <summary>
/// Exceptions that are answers, not faults: a version that moved between fetch and commit (412 with
/// If-Match, else 409 to retry) and requests Kestrel refused (oversized or malformed). Never a 500.
/// </summary>
public sealed class ClientFaults : IExceptionHandler
{
    /// <summary>Too many connections, a pool with none free, or a server shutting down: try again shortly.</summary>
    private static bool IsOverloaded(Npgsql.NpgsqlException e) =>
        e is Npgsql.PostgresException { SqlState: "53300" or "53400" or "57P03" or "57P01" }
        || e.InnerException is TimeoutException
        || e.Message.Contains("connection pool", StringComparison.OrdinalIgnoreCase);

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
            Npgsql.NpgsqlException database when IsOverloaded(database) => Overloaded(http),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                Problems.TooLarge(http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? 0),
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

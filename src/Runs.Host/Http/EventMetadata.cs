
namespace Runs.Host.Http;

/// <summary>
/// Stamps every event a write appends with who caused it (the token's name), a correlation id — the request's
/// W3C trace id (the caller's <c>traceparent</c>, else a new one), so an event leads to its trace and back —
/// and a causation id (this request's id). The answer names the correlation id in <c>X-Correlation-Id</c>.
/// </summary>
public static class EventMetadata
{
    public const string CorrelationHeader = "X-Correlation-Id";

    public static void Before(HttpContext http, ClaimsPrincipal user, IDocumentSession session)
    {
        session.LastModifiedBy = user.Actor();
        session.CorrelationId = (Activity.Current?.TraceId ?? ActivityTraceId.CreateRandom()).ToHexString();
        session.CausationId = http.TraceIdentifier;
        http.Response.Headers[CorrelationHeader] = session.CorrelationId;
    }

    public static bool IsWrite(this HttpChain chain) =>
        chain.HttpMethods.Any(m => m is "POST" or "PUT" or "PATCH" or "DELETE");
}


namespace Runs.Host.Http;

/// <summary>
/// Stamps every event a write appends with who caused it (the token's name), a correlation id — the request's
/// W3C trace id (the caller's <c>traceparent</c>, else a new one), so an event leads to its trace and back —
/// and a causation id (this request's id). The answer names the correlation id in <c>X-Correlation-Id</c>.
/// </summary>
public sealed record EventMetadata(string Actor, string CorrelationId, string CausationId)
{
    public const string CorrelationHeader = "X-Correlation-Id";

    public static void Before(HttpContext http, ClaimsPrincipal user, IDocumentSession session) => Of(http, user).Stamp(session);

    /// <summary>The request's metadata, taken on its own thread (its trace is the current activity there).</summary>
    public static EventMetadata Of(HttpContext http, ClaimsPrincipal user)
    {
        var metadata = new EventMetadata(user.Actor(), (Activity.Current?.TraceId ?? ActivityTraceId.CreateRandom()).ToHexString(), http.TraceIdentifier);
        http.Response.Headers[CorrelationHeader] = metadata.CorrelationId;
        return metadata;
    }

    public void Stamp(IDocumentSession session)
    {
        session.LastModifiedBy = Actor;
        session.CorrelationId = CorrelationId;
        session.CausationId = CausationId;
    }
}

public static class WriteChains
{
    public static bool IsWrite(this HttpChain chain) =>
        chain.HttpMethods.Any(m => m is "POST" or "PUT" or "PATCH" or "DELETE");

    /// <summary>A write that commits through <see cref="GroupCommit"/> opens and stamps its own sessions.</summary>
    public static bool CommitsInGroups(this HttpChain chain) =>
        chain.Method.Method.GetParameters().Any(p => p.ParameterType == typeof(GroupCommit));
}

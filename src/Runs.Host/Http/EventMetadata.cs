using System.Diagnostics;
using System.Security.Claims;
using Marten;
using Runs.Host.Access;
using Wolverine.Http;

namespace Runs.Host.Http;

/// <summary>
/// Stamps every event a write appends with who caused it (the token's name), a correlation id
/// (<c>X-Correlation-Id</c>, else the W3C trace id, else new) and a causation id (this request's id).
/// </summary>
public static class EventMetadata
{
    public const string CorrelationHeader = "X-Correlation-Id";

    public static void Before(HttpContext http, ClaimsPrincipal user, IDocumentSession session)
    {
        session.LastModifiedBy = user.Actor();
        string? given = http.Request.Headers[CorrelationHeader];
        session.CorrelationId = IsUsable(given)
            ? given
            : Activity.Current?.TraceId.ToHexString() ?? Guid.NewGuid().ToString("N");
        session.CausationId = http.TraceIdentifier;
        http.Response.Headers[CorrelationHeader] = session.CorrelationId;
    }

    public static bool IsWrite(this HttpChain chain) =>
        chain.HttpMethods.Any(m => m is "POST" or "PUT" or "PATCH" or "DELETE");

    private static bool IsUsable(string? value) =>
        !string.IsNullOrWhiteSpace(value) && value.Length <= 128 && value.All(c => c is >= '!' and <= '~');
}


namespace Runs.Host.Http;

/// <summary>
/// Query values end up compared with stored text in PostgreSQL (filters, searches), which cannot hold U+0000:
/// a value carrying it is a 400 naming the parameter, once, for every route, before any query is built — after
/// authentication and authorization, so a request without a valid token still answers 401 or 403 first.
/// (Kestrel itself refuses U+0000 in the path, before the application sees the request.)
/// </summary>
public static class QueryText
{
    public static void UseQueryTextCheck(this WebApplication app) =>
        app.Use(async (http, next) =>
        {
            // Kestrel refuses a raw NUL in the request line, so the query can only carry one as %00.
            if (http.Request.QueryString.Value?.Contains("%00", StringComparison.Ordinal) == true
                && http.Request.Query.FirstOrDefault(p => p.Key.Contains('\0') || p.Value.Any(v => v?.Contains('\0') == true)) is { Key: not null } nul)
            {
                var name = nul.Key.Length == 0 ? "query" : StoredJson.Printable(nul.Key);
                await Problems.Invalid(name, $"'{name}' {StoredJson.NulRule}.").ExecuteAsync(http);
                return;
            }
            await next(http);
        });
}

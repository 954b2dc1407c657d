
namespace Runs.Host.Http;

/// <summary>Problems the framework raises itself (unknown route, wrong method, ...) still say what is wrong.</summary>
public static class ProblemDefaults
{
    public static void FillIn(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        problem.Title ??= ReasonPhrases.GetReasonPhrase(status);
        problem.Type ??= "about:blank";
        problem.Detail ??= status switch
        {
            StatusCodes.Status404NotFound => $"Nothing is at '{context.HttpContext.Request.Path}'.",
            StatusCodes.Status405MethodNotAllowed => $"'{context.HttpContext.Request.Method}' is not allowed on '{context.HttpContext.Request.Path}'.",
            StatusCodes.Status415UnsupportedMediaType => $"Content-Type '{context.HttpContext.Request.ContentType ?? "(none)"}' is not accepted here.",
            StatusCodes.Status500InternalServerError => "The server failed to answer; the failure is logged with this trace id.",
            _ => problem.Title,
        };
    }
}

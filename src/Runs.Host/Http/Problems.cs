using FluentValidation.Results;

namespace Runs.Host.Http;

/// <summary>RFC 9457 answers the API gives; every one is application/problem+json.</summary>
public static class Problems
{
    public static IResult Invalid(string field, string message) =>
        Results.ValidationProblem(
            new Dictionary<string, string[]> { [field] = [message] },
            detail: message,
            title: "The request is invalid.");

    public static IResult Invalid(IDictionary<string, string[]> errors) =>
        Results.ValidationProblem(
            errors,
            detail: string.Join(" ", errors.SelectMany(e => e.Value)),
            title: "The request is invalid.");

    /// <summary>FluentValidation names members the C# way; clients know them by their JSON names.</summary>
    public static IResult Invalid(ValidationResult validation) =>
        Invalid(validation.Errors
            .GroupBy(e => JsonName(e.PropertyName))
            .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).Distinct().ToArray()));

    /// <summary><c>Env[2].Key</c> → <c>env[2].key</c>; <c>AppendLog.Level</c> → <c>append_log.level</c>.</summary>
    public static string JsonName(string propertyName) =>
        string.IsNullOrEmpty(propertyName)
            ? "body"
            : string.Join('.', propertyName.Split('.').Select(segment =>
            {
                var bracket = segment.IndexOf('[');
                var name = bracket < 0 ? segment : segment[..bracket];
                return JsonNamingPolicy.SnakeCaseLower.ConvertName(name) + (bracket < 0 ? "" : segment[bracket..]);
            }));

    public static IResult Forbidden(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden.");

    public static IResult NotFound(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status404NotFound, title: "Not found.");

    public static IResult Conflict(Decision.Conflict conflict) =>
        Results.Problem(
            detail: conflict.Detail,
            statusCode: StatusCodes.Status409Conflict,
            title: "The run's state does not allow this.",
            extensions: new Dictionary<string, object?>
            {
                ["current_status"] = conflict.Current.Name(),
                ["action"] = conflict.Action,
            });

    public static IResult Conflict(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict.");

    public static IResult PreconditionFailed(string detail) =>
        Results.Problem(detail: detail, statusCode: StatusCodes.Status412PreconditionFailed, title: "Precondition failed.");

    public static IResult TooLarge(long limit) =>
        Results.Problem(
            detail: $"The request body is larger than the limit of {limit} bytes.",
            statusCode: StatusCodes.Status413PayloadTooLarge,
            title: "Request body too large.");

    public static IResult UnsupportedMediaType(string? contentType, params string[] accepted) =>
        Results.Problem(
            detail: $"Content-Type '{contentType ?? "(none)"}' is not accepted here; use {string.Join(" or ", accepted)}.",
            statusCode: StatusCodes.Status415UnsupportedMediaType,
            title: "Unsupported media type.");

    public static IResult Decision(Decision decision) => decision switch
    {
        Domain.Decision.Conflict c => Conflict(c),
        Domain.Decision.Invalid i => Invalid(i.Field, i.Message),
        _ => throw new ArgumentOutOfRangeException(nameof(decision), "Only refusals are problems."),
    };
}


namespace Runs.Host.Runs.Shared;

/// <summary>410 problem for purged data, naming when it expired and the policy that applied.</summary>
public static class Expiry
{
    public static IResult? Gone(Run run) => run.ExpiredOn is { } expired
        ? Results.Problem(
            detail: $"The logs, input and output of run '{run.Id}' expired on {Http.Rfc3339Converter.Text(expired)} under {run.RetentionPolicy}; the run and its history remain.",
            statusCode: StatusCodes.Status410Gone,
            title: "Retained data expired.",
            extensions: new Dictionary<string, object?>
            {
                ["expired_on"] = Http.Rfc3339Converter.Text(expired),
                ["policy"] = run.RetentionPolicy,
            })
        : null;
}

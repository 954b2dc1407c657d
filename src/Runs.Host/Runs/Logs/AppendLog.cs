using LogLevel = Runs.Domain.LogLevel;

namespace Runs.Host.Runs.Logs;

public sealed record LogLineRequest(string? Level = null, string? Message = null, DateTimeOffset? At = null, bool Internal = false);

/// <summary>The JSON body of <c>POST .../runs/{run}/log</c>; <c>text/plain</c> bodies are one info line per line.</summary>
public sealed record AppendLogRequest(IReadOnlyList<LogLineRequest?>? Lines = null)
{
    public sealed class Validator : AbstractValidator<AppendLogRequest>
    {
        public Validator()
        {
            RuleFor(x => x.Lines).NotNull().WithMessage("'lines' is required: an array of {level, message, at?, internal?}.");
            RuleForEach(x => x.Lines).NotNull().WithMessage("Each line must be an object.").ChildRules(line =>
            {
                line.RuleFor(l => l!.Level).Must(l => l is null || LogLevels.TryParse(l, out _))
                    .WithMessage("'level' must be debug, info, warn or error.");
                line.RuleFor(l => l!.Message).NotNull().WithMessage("'message' is required.");
            });
        }
    }
}

/// <summary>What an append did: lines kept and dropped, and the ids of the lines stored.</summary>
public sealed record LogAppendResult(int Appended, int Dropped, long? FirstId, long? LastId);

public static class AppendLogEndpoint
{
    /// <summary>Appends commit in groups (<see cref="GroupCommit"/>): the busiest write there is.</summary>
    [Authorize(Scopes.RunsWrite)]
    [WolverinePost("/v1/jobs/{job}/runs/{run}/log", OperationId = "appendLog", Summary = "Append log lines")]
    [Tags("Logs and telemetry")]
    [Consumes(typeof(AppendLogRequest), "application/json", "text/plain")]
    [ProducesResponseType<LogAppendResult>(StatusCodes.Status200OK)]
    public static Task<IResult> Post(AppendLogRequest body, HttpContext http, GroupCommit commit, RunSecrets secrets, IOptions<RunsOptions> options, TimeProvider clock) =>
        commit.WriteAsync(http, body, body.Lines!.Count, run => Decide(body, run, secrets, options.Value, clock.GetUtcNow()));

    public static RunAnswer Decide(AppendLogRequest body, Run run, RunSecrets secrets, RunsOptions options, DateTimeOffset now) =>
        new(RunDecider.AppendLog(run, [.. body.Lines!.Select(Line)], options.Logs.Limits, secrets.ScrubberFor(run), now),
            (_, append) => Task.FromResult<object>(Answer((LogAppended)append.Events[0])));

    public static LogAppendResult Answer(LogAppended e) => new(e.Appended, e.Dropped, e.FirstLineId, e.LastLineId);

    private static LogLineInput Line(LogLineRequest? line)
    {
        LogLevels.TryParse(line!.Level ?? "info", out var level);
        return new LogLineInput(level, line.Message!, line.At, line.Internal);
    }

    /// <summary>The lines to append: JSON, or <c>text/plain</c> with one info line per line.</summary>
    public static async Task<(AppendLogRequest? Body, IResult? Problem)> ReadBodyAsync(HttpContext http)
    {
        var request = http.Request;
        var options = http.RequestServices.GetRequiredService<IOptions<RunsOptions>>().Value;
        var maxLines = options.Logs.MaxLinesPerRequest;
        var maxBytes = options.Limits.MaxLogBodyBytes;
        if (request.ContentType?.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase) == true)
        {
            var charset = Microsoft.Net.Http.Headers.MediaTypeHeaderValue.Parse(request.ContentType).Charset.Value;
            if (charset is not null && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("us-ascii", StringComparison.OrdinalIgnoreCase))
            {
                return (null, Problems.UnsupportedMediaType(request.ContentType, "text/plain; charset=utf-8", "application/json"));
            }
            var (bytes, tooLarge) = await JsonBody.ReadLimitedAsync(request, maxBytes);
            if (tooLarge)
            {
                return (null, Problems.TooLarge(maxBytes));
            }
            // Piped output is taken as it comes: bytes that are not UTF-8, and NUL (which PostgreSQL text cannot
            // hold), are shown as U+FFFD rather than refusing the lines around them.
            var text = Encoding.UTF8.GetString(bytes).Replace('\0', '\uFFFD');
            var split = text.Length == 0 ? [] : text.Split('\n');
            var count = text.EndsWith('\n') ? split.Length - 1 : split.Length;
            if (count > maxLines)
            {
                return (null, TooManyLines(maxLines));
            }
            return (new AppendLogRequest([.. split.Take(count).Select(l => new LogLineRequest(Message: l.TrimEnd('\r')))]), null);
        }

        var (body, problem) = await http.RequestServices.GetRequiredService<JsonBody>().ReadAsync<AppendLogRequest>(request, required: true, limit: maxBytes);
        if (problem is not null)
        {
            return (null, problem);
        }
        if (RunWrites.Validate(body, http.RequestServices) is (_, { } invalid))
        {
            return (null, invalid);
        }
        return body!.Lines!.Count > maxLines ? (null, TooManyLines(maxLines)) : (body, null);
    }

    private static IResult TooManyLines(int max) =>
        Results.Problem(
            detail: $"A request may carry at most {max} lines; send the rest in another request.",
            statusCode: StatusCodes.Status413PayloadTooLarge,
            title: "Too many lines.");
}

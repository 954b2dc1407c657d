
namespace Runs.Host.Jobs;

public sealed record JobHistory(string Job, IReadOnlyList<JobStatistics.HistoryRow> Runs);

/// <summary>The whole history, never capped: a transfer, exempt from the request time-out (Kestrel's minimum data rate bounds a slow reader).</summary>
public static class JobHistoryEndpoint
{
    private const string Row = "{0,-24}  {1,-33}  {2,-8}  {3,10}  {4}\n";

    [Authorize(Scopes.RunsRead)]
    [WolverineGet("/v1/jobs/{job}/stats/runs", OperationId = "getJobHistory", Summary = "Get a job's run history")]
    [Tags("Jobs and statistics")]
    [Produces("text/plain", "application/json")]
    [ProducesResponseType<JobHistory>(StatusCodes.Status200OK, "application/json")]
    [DisableRequestTimeout]
    public static async Task<IResult> Get(string job, HttpContext http, NpgsqlDataSource database, JsonBody json)
    {
        if (!JobName.IsValid(job))
        {
            return Problems.NotFound($"No job '{job}'.");
        }
        await using var rows = JobStatistics.HistoryAsync(database, job, http.RequestAborted).GetAsyncEnumerator(http.RequestAborted);
        var any = await rows.MoveNextAsync();
        if (!any)
        {
            return Problems.NotFound($"No job '{job}': a job exists once it has a run.");
        }

        var response = http.Response;
        if (Negotiation.WantsJson(http.Request))
        {
            response.ContentType = "application/json; charset=utf-8";
            await using var writer = new Utf8JsonWriter(response.BodyWriter);
            writer.WriteStartObject();
            writer.WriteString("job", job);
            writer.WriteStartArray("runs");
            do
            {
                JsonSerializer.Serialize(writer, rows.Current, json.SerializerOptions);
                if (writer.BytesPending > 32 * 1024)
                {
                    await writer.FlushAsync(http.RequestAborted);
                }
            }
            while (await rows.MoveNextAsync());
            writer.WriteEndArray();
            writer.WriteEndObject();
            await writer.FlushAsync(http.RequestAborted);
        }
        else
        {
            response.ContentType = "text/plain; charset=utf-8";
            await using var text = new StreamWriter(response.Body, new UTF8Encoding(false), 32 * 1024);
            await text.WriteAsync(string.Format(CultureInfo.InvariantCulture, Row, "TIME", "RUN", "TRIGGER", "DURATION", "STATUS"));
            do
            {
                var r = rows.Current;
                await text.WriteAsync(string.Format(CultureInfo.InvariantCulture, Row,
                    Rfc3339Converter.Text(r.Time), r.Run, r.Trigger, r.Duration?.ToString("0.00", CultureInfo.InvariantCulture) ?? "-", r.Status));
            }
            while (await rows.MoveNextAsync());
        }
        return Results.Empty;
    }
}

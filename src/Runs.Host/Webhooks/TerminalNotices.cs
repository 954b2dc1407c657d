using Wolverine.Marten;

namespace Runs.Host.Webhooks;

/// <summary>
/// When a run ends, Marten forwards its terminal event to Wolverine as one <see cref="RunEnded"/> message,
/// through the outbox in the same transaction as the event — whoever appends it: a rolled-back event sends
/// nothing, a committed one is never lost, and the write costs the same however many endpoints subscribe. <see cref="RunEndedHandler"/> fans it
/// out to them; each attempt builds its body with <see cref="Payload"/>, so building it never fails a
/// terminal write.
/// </summary>
public static class TerminalNotices
{
    public static void Forward(MartenIntegration marten)
    {
        marten.UseFastEventForwarding = true;
        marten.SubscribeToEvent<Succeeded>().TransformedTo(e => new RunEnded(e.StreamKey!, "run.succeeded"));
        marten.SubscribeToEvent<Failed>().TransformedTo(e => new RunEnded(e.StreamKey!, "run.failed"));
        marten.SubscribeToEvent<Canceled>().TransformedTo(e => new RunEnded(e.StreamKey!, "run.canceled"));
        marten.SubscribeToEvent<Rejected>().TransformedTo(e => new RunEnded(e.StreamKey!, "run.rejected"));
    }

    /// <summary><c>{type, timestamp, data}</c>: the run summary with the error summary, telemetry summary and, for failures, the last error lines.</summary>
    public static string Payload(string type, Run run, JsonSerializerOptions json)
    {
        var data = JsonSerializer.SerializeToNode(RunSummary.From(run), json)!.AsObject();
        data["error_summary"] = run.ErrorSummary;
        data["telemetry_summary"] = JsonSerializer.SerializeToNode(run.TelemetrySummary, json);
        if (type == "run.failed")
        {
            data["last_error_lines"] = JsonSerializer.SerializeToNode(run.LastErrorLines, json);
        }
        var body = new JsonObject
        {
            ["type"] = type,
            ["timestamp"] = JsonSerializer.SerializeToNode(run.CompletedOn ?? run.LastModified, json),
            ["data"] = data,
        };
        return body.ToJsonString(json);
    }
}

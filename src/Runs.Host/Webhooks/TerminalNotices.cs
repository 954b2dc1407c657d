using System.Text.Json;
using System.Text.Json.Nodes;
using Runs.Domain;
using Runs.Host.Runs.Listing;
using Wolverine;

namespace Runs.Host.Webhooks;

/// <summary>
/// When a run ends, one <see cref="RunEnded"/> message is enqueued through Wolverine's outbox in the same
/// transaction as the terminal event: a rolled-back event sends nothing, a committed one is never lost,
/// and the write costs the same however many endpoints subscribe. <see cref="RunEndedHandler"/> fans it
/// out to them; each attempt builds its body with <see cref="Payload"/>, so building it never fails a
/// terminal write.
/// </summary>
public static class TerminalNotices
{
    public static string? EventTypeOf(object @event) => @event switch
    {
        Succeeded => "run.succeeded",
        Failed => "run.failed",
        Canceled => "run.canceled",
        Rejected => "run.rejected",
        _ => null,
    };

    public static async Task EnqueueAsync(IMessageBus bus, Run run, IEnumerable<object> events)
    {
        if (events.Select(EventTypeOf).FirstOrDefault(type => type is not null) is { } type)
        {
            await bus.PublishAsync(new RunEnded(run.Id, run.Job, type));
        }
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

using System.Text.Json;
using System.Text.Json.Nodes;
using Marten;
using Runs.Domain;
using Runs.Host.Runs.Listing;
using Wolverine;

namespace Runs.Host.Webhooks;

/// <summary>
/// When a run ends, one delivery per matching enabled endpoint is enqueued through Wolverine's outbox in
/// the same transaction as the terminal event: a rolled-back event sends nothing, a committed one is
/// never lost.
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

    public static async Task EnqueueAsync(
        IDocumentSession session, IMessageBus bus, Run run, IEnumerable<object> events, JsonSerializerOptions json, DateTimeOffset now)
    {
        var ended = events.Select(e => (Event: e, Type: EventTypeOf(e))).FirstOrDefault(e => e.Type is not null);
        if (ended.Type is not { } type)
        {
            return;
        }
        var endpoints = (await session.Query<WebhookEndpoint>().Where(e => e.Enabled).ToListAsync())
            .Where(e => e.Wants(type, run.Job))
            .ToList();
        if (endpoints.Count == 0)
        {
            return;
        }

        var payload = Payload(type, run, json);
        foreach (var endpoint in endpoints)
        {
            var delivery = new WebhookDelivery
            {
                Id = "msg_" + Guid.NewGuid().ToString("N"),
                EndpointId = endpoint.Id,
                EventType = type,
                Run = run.Id,
                Job = run.Job,
                Payload = payload,
                CreatedOn = now,
                LastChangedOn = now,
                NextAttemptOn = now,
            };
            session.Store(delivery);
            await bus.PublishAsync(new DeliverWebhook(delivery.Id, endpoint.Id));
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

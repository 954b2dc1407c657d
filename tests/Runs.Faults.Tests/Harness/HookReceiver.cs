using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Runs.Faults.Tests.Harness;

public sealed record Hook(string WebhookId, string Run, string Type, DateTimeOffset At);

/// <summary>
/// A real webhook receiver on loopback that records every delivery and answers 204 after a short think —
/// or, while held, not at all: the sender's deliveries back up in its inbox, as they do behind a slow receiver.
/// </summary>
public sealed class HookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private volatile TaskCompletionSource _gate = Open();

    public ConcurrentQueue<Hook> Received { get; } = new();
    public string Url { get; private set; } = "";

    private HookReceiver(WebApplication app) => _app = app;

    /// <param name="think">How long each answer takes: a receiver that is not instant keeps some deliveries in flight.</param>
    public static async Task<HookReceiver> StartAsync(TimeSpan think)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new HookReceiver(app);
        app.MapPost("/hook", async (HttpContext http) =>
        {
            var at = DateTimeOffset.UtcNow;
            var body = JsonNode.Parse(await new StreamReader(http.Request.Body).ReadToEndAsync())!;
            receiver.Received.Enqueue(new Hook(
                http.Request.Headers["webhook-id"].ToString(),
                (string)body["data"]!["id"]!,
                (string)body["type"]!,
                at));
            await receiver._gate.Task;
            await Task.Delay(think);
            return Results.NoContent();
        });
        await app.StartAsync();
        receiver.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/hook";
        return receiver;
    }

    private static TaskCompletionSource Open()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }

    /// <summary>Stops answering until <see cref="Release"/>; the sender's queue fills up.</summary>
    public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _gate.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        Release();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

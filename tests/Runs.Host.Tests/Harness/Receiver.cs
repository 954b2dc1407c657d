using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Runs.Host.Tests.Harness;

public sealed record ReceivedHook(string Id, string Timestamp, string Signature, string Body, DateTimeOffset At, string Path = "/hook");

/// <summary>How the receiver answers one request.</summary>
public sealed record Answer(int Status, string Body = "", string? Location = null);

/// <summary>A real HTTP receiver (Kestrel on a loopback port) that records what it is sent and answers as told.</summary>
public sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Answer> _answers = new();

    public ConcurrentQueue<ReceivedHook> Received { get; } = new();

    public string Url { get; private set; } = "";

    /// <summary>Status code once the queued answers run out.</summary>
    public int DefaultAnswer { get; set; } = 200;

    private Receiver(WebApplication app) => _app = app;

    public static async Task<Receiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new Receiver(app);
        app.MapPost("/{path}", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            receiver.Received.Enqueue(new ReceivedHook(
                http.Request.Headers["webhook-id"].ToString(),
                http.Request.Headers["webhook-timestamp"].ToString(),
                http.Request.Headers["webhook-signature"].ToString(),
                await reader.ReadToEndAsync(),
                DateTimeOffset.UtcNow,
                http.Request.Path));
            var answer = receiver._answers.TryDequeue(out var next) ? next : new Answer(receiver.DefaultAnswer);
            http.Response.StatusCode = answer.Status;
            if (answer.Location is not null)
            {
                http.Response.Headers.Location = answer.Location;
            }
            await http.Response.WriteAsync(answer.Body);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = address + "/hook";
        return receiver;
    }

    public void AnswerNext(params int[] statuses)
    {
        foreach (var status in statuses)
        {
            _answers.Enqueue(new Answer(status));
        }
    }

    public void AnswerNext(Answer answer) => _answers.Enqueue(answer);

    public async Task<List<ReceivedHook>> WaitForAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (Received.Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        return [.. Received];
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

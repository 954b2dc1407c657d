
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

    /// <summary>
    /// Answer every request with a 500 whose headers promise 100,000 bytes, then send one byte a second
    /// until the caller hangs up (and count that in <see cref="CutOff"/>).
    /// </summary>
    public bool Trickles { get; set; }

    private int _cutOff;

    /// <summary>Trickled answers the caller hung up on.</summary>
    public int CutOff => Volatile.Read(ref _cutOff);

    private readonly CancellationToken _stopping;

    private Receiver(WebApplication app)
    {
        _app = app;
        _stopping = app.Lifetime.ApplicationStopping;
    }

    public static async Task<Receiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        // A trickle is the point, so Kestrel must not cut it off first.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MinResponseDataRate = null);
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
            if (receiver.Trickles)
            {
                await receiver.TrickleAsync(http);
                return;
            }
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

    private async Task TrickleAsync(HttpContext http)
    {
        http.Response.StatusCode = 500;
        http.Response.ContentLength = 100_000;
        try
        {
            using var ended = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, _stopping);
            await http.Response.StartAsync(ended.Token);
            using var second = new PeriodicTimer(TimeSpan.FromSeconds(1));
            while (await second.WaitForNextTickAsync(ended.Token))
            {
                await http.Response.Body.WriteAsync("x"u8.ToArray(), ended.Token);
                await http.Response.Body.FlushAsync(ended.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            if (!_stopping.IsCancellationRequested)
            {
                Interlocked.Increment(ref _cutOff);
            }
        }
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

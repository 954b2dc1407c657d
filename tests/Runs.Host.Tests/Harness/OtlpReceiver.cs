
namespace Runs.Host.Tests.Harness;

/// <summary>An OTLP/HTTP endpoint on loopback that keeps the bodies of the trace exports it is sent.</summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly ConcurrentQueue<byte[]> _exports = new();
    private WebApplication _app = null!;

    public string Url { get; private set; } = "";

    public static OtlpReceiver Start()
    {
        var receiver = new OtlpReceiver();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        receiver._app = builder.Build();
        receiver._app.MapPost("/v1/traces", async (HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            receiver._exports.Enqueue(body.ToArray());
            // An empty body is an empty ExportTraceServiceResponse: everything accepted.
            http.Response.ContentType = "application/x-protobuf";
        });
        receiver._app.StartAsync().GetAwaiter().GetResult();
        receiver.Url = receiver._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return receiver;
    }

    /// <summary>Whether any export so far holds a span of this trace (OTLP carries trace ids as 16 raw bytes).</summary>
    public bool HasTrace(string traceId)
    {
        var id = Convert.FromHexString(traceId);
        return _exports.Any(body => body.AsSpan().IndexOf(id) >= 0);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

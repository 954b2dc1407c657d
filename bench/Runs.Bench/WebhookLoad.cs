using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

/// <summary>
/// webhooks: N writers finish runs (trigger → start → succeed) while a loopback receiver counts what
/// arrives; latency from the succeed's acknowledgement to the receiver getting that run's message.
/// </summary>
internal static class WebhookLoad
{
    public static async Task<int> RunAsync(Options options)
    {
        var received = new ConcurrentDictionary<string, long>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var receiver = builder.Build();
        receiver.MapPost("/hook", async (HttpContext http) =>
        {
            using var doc = await JsonDocument.ParseAsync(http.Request.Body);
            received.TryAdd(doc.RootElement.GetProperty("data").GetProperty("id").GetString()!, Stopwatch.GetTimestamp());
            return Results.NoContent();
        });
        await receiver.StartAsync();
        var url = receiver.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/hook";

        using var http = new HttpClient { BaseAddress = new Uri(options.Url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
        (await http.PostAsync("/v1/webhooks", Json(new { url, events = new[] { "run.succeeded" }, jobs = new[] { "bench-hooks" } }))).EnsureSuccessStatusCode();

        var acknowledged = new ConcurrentDictionary<string, long>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, options.Clients).Select(async _ =>
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(options.Seconds))
            {
                using var triggered = await http.PostAsync("/v1/jobs/bench-hooks/runs", Json(new { }));
                using var doc = JsonDocument.Parse(await triggered.Content.ReadAsStringAsync());
                var id = doc.RootElement.GetProperty("id").GetString()!;
                var uri = doc.RootElement.GetProperty("uri").GetString()!;
                (await http.PostAsync($"{uri}/start", null)).EnsureSuccessStatusCode();
                (await http.PostAsync($"{uri}/succeed", null)).EnsureSuccessStatusCode();
                acknowledged[id] = Stopwatch.GetTimestamp();
            }
        }));

        var drain = Stopwatch.StartNew();
        while (acknowledged.Keys.Any(k => !received.ContainsKey(k)) && drain.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
        }
        var latencies = acknowledged.Where(a => received.ContainsKey(a.Key))
            .Select(a => Math.Max(0, Stopwatch.GetElapsedTime(a.Value, received[a.Key]).TotalMilliseconds)).Order().ToArray();
        double P(double p) => latencies.Length == 0 ? 0 : Math.Round(latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(p * latencies.Length) - 1)], 2);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            writers = options.Clients,
            seconds = options.Seconds,
            sent = acknowledged.Count,
            received = latencies.Length,
            lost = acknowledged.Count - latencies.Length,
            p50_ms = P(0.50),
            p99_ms = P(0.99),
            max_ms = P(1.0),
        }));
        return acknowledged.Count == latencies.Length ? 0 : 1;
    }

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
}

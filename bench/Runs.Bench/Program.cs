
// lifecycle (default): drives full run lifecycles (trigger → start → succeed) over HTTP with N concurrent clients and
// reports commands/s and latency percentiles. Run by bench/lifecycle.sh, which also measures pgbench.
//   dotnet run -c Release -- lifecycle --url http://127.0.0.1:5090 --token runs_... --clients 8 --seconds 20

var options = Options.Parse(args);
if (args.Length > 0 && args[0] == "logs")
{
    return await LogLoad.IngestAsync(options);
}
if (args.Length > 0 && args[0] == "sse")
{
    return await LogLoad.FanOutAsync(options);
}
if (args.Length > 0 && args[0] == "webhooks")
{
    return await WebhookLoad.RunAsync(options);
}
if (args.Length > 0 && args[0] == "reference")
{
    return await Reference.RunAsync(options, Environment.GetEnvironmentVariable("ConnectionStrings__Runs")!);
}
if (args.Length > 0 && args[0] == "search")
{
    return await SearchLoad.RunAsync(options, Environment.GetEnvironmentVariable("ConnectionStrings__Runs")!);
}
if (args.Length > 0 && args[0] == "reads")
{
    return await ReadLoad.RunAsync(options, Environment.GetEnvironmentVariable("ConnectionStrings__Runs")!);
}
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Clients * 2 })
{
    BaseAddress = new Uri(options.Url),
};
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);

var latencies = new List<double>[options.Clients];
var failures = 0;
var deadline = Stopwatch.StartNew();
var warmup = TimeSpan.FromSeconds(2);

async Task Client(int index)
{
    var mine = latencies[index] = new List<double>(100_000);
    var json = new StringContent("{}", Encoding.UTF8, "application/json");
    while (deadline.Elapsed < warmup + TimeSpan.FromSeconds(options.Seconds))
    {
        var measuring = deadline.Elapsed >= warmup;
        var started = Stopwatch.GetTimestamp();
        using var triggered = await http.PostAsync($"/v1/jobs/bench-{index % 4}/runs", new StringContent("{\"source\":\"bench\"}", Encoding.UTF8, "application/json"));
        Record(measuring, started, triggered.IsSuccessStatusCode);
        if (!triggered.IsSuccessStatusCode)
        {
            continue;
        }
        var uri = JsonDocument.Parse(await triggered.Content.ReadAsStreamAsync()).RootElement.GetProperty("uri").GetString();
        foreach (var action in new[] { "start", "succeed" })
        {
            started = Stopwatch.GetTimestamp();
            using var answer = await http.PostAsync($"{uri}/{action}", null);
            Record(measuring, started, answer.IsSuccessStatusCode);
        }
    }

    void Record(bool measuring, long started, bool ok)
    {
        if (!ok)
        {
            Interlocked.Increment(ref failures);
        }
        if (measuring)
        {
            mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }
}

await Task.WhenAll(Enumerable.Range(0, options.Clients).Select(Client));

var all = latencies.SelectMany(l => l).Order().ToArray();
double Percentile(double p) => all.Length == 0 ? 0 : all[Math.Min(all.Length - 1, (int)Math.Ceiling(p * all.Length) - 1)];
Console.WriteLine(JsonSerializer.Serialize(new
{
    clients = options.Clients,
    seconds = options.Seconds,
    commands = all.Length,
    commands_per_second = Math.Round(all.Length / (double)options.Seconds, 1),
    p50_ms = Math.Round(Percentile(0.50), 2),
    p99_ms = Math.Round(Percentile(0.99), 2),
    failures,
}));
return failures == 0 ? 0 : 1;

internal sealed record Options(string Url, string Token, int Clients, int Seconds, int Readers)
{
    public static Options Parse(string[] args)
    {
        string Value(string name, string fallback)
        {
            var at = Array.IndexOf(args, name);
            return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
        }
        return new Options(
            Value("--url", "http://127.0.0.1:5090"),
            Value("--token", Environment.GetEnvironmentVariable("RUNS_TOKEN") ?? ""),
            int.Parse(Value("--clients", "8")),
            int.Parse(Value("--seconds", "20")),
            int.Parse(Value("--readers", "500")));
    }
}

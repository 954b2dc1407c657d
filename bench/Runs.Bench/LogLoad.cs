/// <summary>
/// logs: N writers append 100-line batches to N runs, durably, as fast as they can.
/// sse:  R live-stream readers on one run; one writer appends a line every 50 ms; the latency is from
///       the append's acknowledgement to each reader receiving the line.
/// </summary>
internal static class LogLoad
{
    private static HttpClient Client(Options options, int connections) => new(new SocketsHttpHandler { MaxConnectionsPerServer = connections })
    {
        BaseAddress = new Uri(options.Url),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", options.Token) },
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private static async Task<string> NewRunAsync(HttpClient http, string job)
    {
        using var answer = await http.PostAsync($"/v1/jobs/{job}/runs", new StringContent("{}", Encoding.UTF8, "application/json"));
        answer.EnsureSuccessStatusCode();
        var uri = JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("uri").GetString()!;
        (await http.PostAsync($"{uri}/start", null)).EnsureSuccessStatusCode();
        return uri;
    }

    public static async Task<int> IngestAsync(Options options)
    {
        using var http = Client(options, options.Clients * 2);
        var runs = await Task.WhenAll(Enumerable.Range(0, options.Clients).Select(i => NewRunAsync(http, $"bench-logs-{i}")));
        var body = JsonSerializer.Serialize(new
        {
            lines = Enumerable.Range(0, 100).Select(i => new { level = i % 10 == 0 ? "warn" : "info", message = $"step {i}: processed batch of rows from the source table into the staging area" }),
        });
        var latencies = new ConcurrentBag<double>();
        var failures = 0;
        var lines = 0L;
        var clock = Stopwatch.StartNew();
        var warmup = TimeSpan.FromSeconds(2);
        var end = warmup + TimeSpan.FromSeconds(options.Seconds);

        await Task.WhenAll(runs.Select(async uri =>
        {
            while (clock.Elapsed < end)
            {
                var measuring = clock.Elapsed >= warmup;
                var started = Stopwatch.GetTimestamp();
                using var answer = await http.PostAsync($"{uri}/log", new StringContent(body, Encoding.UTF8, "application/json"));
                if (!answer.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref failures);
                    continue;
                }
                if (measuring)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    Interlocked.Add(ref lines, 100);
                }
            }
        }));

        var sorted = latencies.Order().ToArray();
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            writers = options.Clients,
            seconds = options.Seconds,
            batches = sorted.Length,
            lines_per_second = Math.Round(lines / (double)options.Seconds),
            p50_ms = Percentile(sorted, 0.50),
            p99_ms = Percentile(sorted, 0.99),
            failures,
        }));
        return failures == 0 ? 0 : 1;
    }

    public static async Task<int> FanOutAsync(Options options)
    {
        using var http = Client(options, options.Readers + 10);
        var uri = await NewRunAsync(http, "bench-sse");
        var acknowledged = new ConcurrentDictionary<long, long>();
        var received = new ConcurrentBag<(long Line, long At)>();
        var connected = 0;
        using var stop = new CancellationTokenSource();

        var readers = Enumerable.Range(0, options.Readers).Select(async _ =>
        {
            try
            {
                using var response = await http.GetAsync($"{uri}/log/stream", HttpCompletionOption.ResponseHeadersRead, stop.Token);
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stop.Token));
                Interlocked.Increment(ref connected);
                while (await reader.ReadLineAsync(stop.Token) is { } line)
                {
                    if (line.StartsWith("id: ", StringComparison.Ordinal))
                    {
                        received.Add((long.Parse(line[4..]), Stopwatch.GetTimestamp()));
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }).ToList();

        var wait = Stopwatch.StartNew();
        while (Volatile.Read(ref connected) < options.Readers && wait.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
        }

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(options.Seconds))
        {
            using var answer = await http.PostAsync($"{uri}/log",
                new StringContent("{\"lines\":[{\"level\":\"info\",\"message\":\"tick\"}]}", Encoding.UTF8, "application/json"));
            var at = Stopwatch.GetTimestamp();
            var id = JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("last_id").GetInt64();
            acknowledged[id] = at;
            await Task.Delay(50);
        }
        await Task.Delay(2000);
        stop.Cancel();
        await Task.WhenAll(readers);

        var latencies = received.Where(r => acknowledged.ContainsKey(r.Line))
            .Select(r => Math.Max(0, Stopwatch.GetElapsedTime(acknowledged[r.Line], r.At).TotalMilliseconds))
            .Order().ToArray();
        var expected = (long)acknowledged.Count * options.Readers;
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            readers = options.Readers,
            connected,
            lines = acknowledged.Count,
            deliveries = latencies.Length,
            missing = expected - latencies.Length,
            p50_ms = Percentile(latencies, 0.50),
            p99_ms = Percentile(latencies, 0.99),
            max_ms = latencies.Length == 0 ? 0 : Math.Round(latencies[^1], 2),
        }));
        return 0;
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : Math.Round(sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)], 2);
}

using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Runs.Faults.Tests.Harness;

/// <summary>What the load was told: every answer it got, and every write that was acknowledged.</summary>
public sealed class RunRecord(string id, string uri)
{
    public string Id { get; } = id;
    public string Uri { get; } = uri;
    public string? Terminal { get; set; }
    public DateTimeOffset? TerminalAcknowledgedAt { get; set; }
    /// <summary>The host whose 2xx acknowledged the terminal write (its node owns the delivery's outbox message).</summary>
    public string? TerminalHost { get; set; }
    public long AcknowledgedLines { get; set; }
    /// <summary>Lines sent in appends that got no answer (a dropped connection): they may or may not be stored.</summary>
    public long AmbiguousLines { get; set; }
}

public sealed class Ledger
{
    public ConcurrentDictionary<string, string> RunByKey { get; } = new();
    public ConcurrentDictionary<string, RunRecord> Runs { get; } = new();
    public ConcurrentDictionary<int, int> Answers { get; } = new();
    public ConcurrentQueue<string> ServerErrors { get; } = new();
    public ConcurrentQueue<string> KeyMismatches { get; } = new();
    public ConcurrentQueue<DateTimeOffset> Refusals { get; } = new();
    private int _networkErrors;
    private int _refusedConnections;

    /// <summary>Requests that got no answer: the connection dropped (or never opened) while they were sent.</summary>
    public int NetworkErrors => _networkErrors;

    /// <summary>Of those, connections refused outright: nothing reached a host.</summary>
    public int RefusedConnections => _refusedConnections;

    public int Count(int status) => Answers.GetValueOrDefault(status);

    public void Answered(HttpStatusCode status, DateTimeOffset at)
    {
        Answers.AddOrUpdate((int)status, 1, (_, n) => n + 1);
        if (status == HttpStatusCode.ServiceUnavailable)
        {
            Refusals.Enqueue(at);
        }
    }

    public void NetworkError(Exception error, DateTimeOffset at)
    {
        Interlocked.Increment(ref _networkErrors);
        if (IsRefused(error))
        {
            Interlocked.Increment(ref _refusedConnections);
        }
        Refusals.Enqueue(at);
    }

    public static bool IsRefused(Exception error) =>
        error is HttpRequestException { InnerException: System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused } };

    public string Summary() =>
        string.Join(", ", Answers.OrderBy(a => a.Key).Select(a => $"{a.Key}: {a.Value}")) + $", no answer: {NetworkErrors} ({RefusedConnections} refused connections)";
}

/// <summary>
/// Clients that trigger runs (with an <c>Idempotency-Key</c>), start them, append log lines and end them,
/// against one or more hosts. A write that got no answer or a 503 is sent again (to the next host, if there
/// are several) — except a log append whose connection dropped, which is not idempotent yet and is counted
/// as ambiguous instead. When told to stop, each client ends the run it is on.
/// </summary>
public sealed class Load : IAsyncDisposable
{
    public const string Job = "faults";
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(120);
    /// <summary>
    /// Each client's pause after every write, a runner's rhythm rather than a flood: writes are
    /// still in flight whenever a fault strikes, and the load leaves CPU to the suites running beside it
    /// (back to back, the hosts took all they could get: about 300 requests a second).
    /// </summary>
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(20);

    private readonly HttpClient _http;
    private readonly IReadOnlyList<string> _hosts;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _clients = [];

    public Ledger Ledger { get; } = new();

    public Load(IReadOnlyList<string> hosts, string token)
    {
        _hosts = hosts;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(30) })
        {
            Timeout = TimeSpan.FromSeconds(15),
        };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public void Start(int clients)
    {
        for (var i = 0; i < clients; i++)
        {
            var client = i;
            _clients.Add(Task.Run(() => ClientAsync(client)));
        }
    }

    /// <summary>Lets every client end its current run, then waits for them.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients);
    }

    private async Task ClientAsync(int client)
    {
        for (var n = 0; !_stop.IsCancellationRequested; n++)
        {
            var key = Guid.NewGuid().ToString("N");
            var (_, created, _) = await SendAsync(client, HttpMethod.Post, $"/v1/jobs/{Job}/runs", new { source = "faults" }, key,
                status => status is HttpStatusCode.Created or HttpStatusCode.OK);
            var id = (string)created!["id"]!;
            var record = new RunRecord(id, (string)created["uri"]!);
            if (!Ledger.RunByKey.TryAdd(key, id))
            {
                Ledger.KeyMismatches.Enqueue(key);
            }
            Ledger.Runs[id] = record;
            await Task.Delay(Pace);

            await SendAsync(client, HttpMethod.Post, $"{record.Uri}/start", new { runner = $"client-{client}" }, null,
                status => status == HttpStatusCode.OK, alreadyIn: "running");
            await Task.Delay(Pace);
            for (var batch = 0; batch < 2; batch++)
            {
                await AppendAsync(client, record, batch);
                await Task.Delay(Pace);
            }
            var (action, body, outcome) = n % 4 == 3
                ? ("fail", (object)new { error_summary = "load failure", exit_code = 1 }, "failed")
                : ("succeed", new { exit_code = 0 }, "succeeded");
            var (_, _, host) = await SendAsync(client, HttpMethod.Post, $"{record.Uri}/{action}", body, null,
                status => status == HttpStatusCode.OK, alreadyIn: outcome);
            record.Terminal = outcome;
            record.TerminalAcknowledgedAt = DateTimeOffset.UtcNow;
            record.TerminalHost = host;
            await Task.Delay(Pace);
        }
    }

    private async Task AppendAsync(int client, RunRecord record, int batch)
    {
        var lines = Enumerable.Range(0, 5)
            .Select(i => new { level = i == 4 ? "warn" : "info", message = $"client {client} batch {batch} line {i}" })
            .ToArray();
        for (var attempt = 0; ; attempt++)
        {
            var host = _hosts[(client + attempt) % _hosts.Count];
            try
            {
                using var answer = await _http.PostAsJsonAsync(host + $"{record.Uri}/log", new { lines });
                Ledger.Answered(answer.StatusCode, DateTimeOffset.UtcNow);
                if (answer.IsSuccessStatusCode)
                {
                    var appended = (await answer.Content.ReadFromJsonAsync<JsonNode>())!;
                    record.AcknowledgedLines += (long)appended["appended"]!;
                    return;
                }
                await NoteFailureAsync(answer, record.Uri + "/log");
                if (answer.StatusCode is not (HttpStatusCode.ServiceUnavailable or HttpStatusCode.Conflict))
                {
                    // Anything else is a bug the checks report; a 500 may have stored the lines.
                    record.AmbiguousLines += lines.Length;
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                Ledger.NetworkError(e, DateTimeOffset.UtcNow);
                // A refused connection reached nobody, so sending again is safe; a dropped one may have been stored.
                if (!Ledger.IsRefused(e))
                {
                    record.AmbiguousLines += lines.Length;
                    return;
                }
            }
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Sends until the write is acknowledged. <paramref name="alreadyIn"/>: a 409 naming this status means an
    /// earlier attempt whose answer was lost had committed.
    /// </summary>
    private async Task<(HttpStatusCode Status, JsonNode? Body, string Host)> SendAsync(
        int client, HttpMethod method, string path, object body, string? idempotencyKey, Func<HttpStatusCode, bool> done, string? alreadyIn = null)
    {
        var until = DateTime.UtcNow + GiveUp;
        for (var attempt = 0; DateTime.UtcNow < until; attempt++)
        {
            var host = _hosts[(client + attempt) % _hosts.Count];
            try
            {
                using var request = new HttpRequestMessage(method, host + path) { Content = JsonContent.Create(body) };
                if (idempotencyKey is not null)
                {
                    request.Headers.Add("Idempotency-Key", idempotencyKey);
                }
                using var answer = await _http.SendAsync(request);
                Ledger.Answered(answer.StatusCode, DateTimeOffset.UtcNow);
                var text = await answer.Content.ReadAsStringAsync();
                var json = text.Length > 0 && text[0] == '{' ? JsonNode.Parse(text) : null;
                if (done(answer.StatusCode))
                {
                    return (answer.StatusCode, json, host);
                }
                if (answer.StatusCode == HttpStatusCode.Conflict && alreadyIn is not null && (string?)json?["current_status"] == alreadyIn)
                {
                    return (answer.StatusCode, json, host);
                }
                if (answer.StatusCode == HttpStatusCode.InternalServerError)
                {
                    Ledger.ServerErrors.Enqueue($"{method} {path}: {text}");
                }
                else if (answer.StatusCode is not (HttpStatusCode.ServiceUnavailable or HttpStatusCode.Conflict))
                {
                    throw new InvalidOperationException($"{method} {path} answered {(int)answer.StatusCode}: {text}");
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                Ledger.NetworkError(e, DateTimeOffset.UtcNow);
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{method} {path} was not acknowledged within {GiveUp}; answers so far: {Ledger.Summary()}");
    }

    private async Task NoteFailureAsync(HttpResponseMessage answer, string path)
    {
        if (answer.StatusCode == HttpStatusCode.InternalServerError)
        {
            Ledger.ServerErrors.Enqueue($"POST {path}: {await answer.Content.ReadAsStringAsync()}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }
        _http.Dispose();
        _stop.Dispose();
    }
}

using System.Net.Sockets;

namespace Runs.Host.Tests;

/// <summary>
/// Slow clients on a real socket: they cost the server a socket and a bounded buffer, never a pooled
/// connection, a thread, or memory that grows with what they read; and transfers outlast the request time-out.
/// </summary>
[Collection(TransfersCollection.Name)]
[Trait(OwnProcess.Trait, OwnProcess.Value)]
public sealed class TransferTests(TransfersHost fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private string _token = "";
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        await fixture.ResetAsync();
        _token = await fixture.TokenAsync("runner", [Scopes.RunsRead, Scopes.RunsWrite]);
        _client = fixture.Client(_token);
    }

    public Task DisposeAsync()
    {
        _client.Dispose();
        return Task.CompletedTask;
    }

    private async Task<byte[]> PutOutput(JsonNode run, string name, int size)
    {
        var bytes = RandomNumberGenerator.GetBytes(size);
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = name };
        Assert.Equal(HttpStatusCode.OK, (await _client.PutAsync($"{run["uri"]}/output", content)).StatusCode);
        return bytes;
    }

    /// <summary>A download whose client read its first bytes and then stopped reading, as over a stalled link.</summary>
    private sealed record StalledRead(HttpResponseMessage Response, Stream Body, byte[] Start)
    {
        public async Task<byte[]> RestAsync()
        {
            using var all = new MemoryStream();
            all.Write(Start);
            await Body.CopyToAsync(all);
            return all.ToArray();
        }
    }

    private async Task<StalledRead> StartReading(HttpClient reader, string url)
    {
        var response = await reader.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStreamAsync();
        var start = new byte[64 * 1024];
        await body.ReadExactlyAsync(start);
        return new StalledRead(response, body, start);
    }

    /// <summary>What a client meets while the slow ones hold on: its token is checked and its reads answer.</summary>
    private async Task AssertOrdinaryRequestsAnswer(JsonNode run)
    {
        using var other = fixture.Client(await fixture.TokenAsync("bystander", [Scopes.RunsRead]));
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/v1/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync((string)run["uri"]!)).StatusCode);
    }

    [Fact]
    public async Task Stalled_downloads_beyond_the_pool_size_leave_every_other_request_answering()
    {
        var single = await SocketHost.StartedRunAsync(_client);
        var file = await PutOutput(single, "big.bin", 24 * 1024 * 1024);
        var several = await SocketHost.StartedRunAsync(_client);
        var parts = new[] { RandomNumberGenerator.GetBytes(12 * 1024 * 1024), RandomNumberGenerator.GetBytes(12 * 1024 * 1024) };
        using (var form = new MultipartFormDataContent { { new ByteArrayContent(parts[0]), "files", "a.bin" }, { new ByteArrayContent(parts[1]), "files", "b.bin" } })
        {
            Assert.Equal(HttpStatusCode.OK, (await _client.PutAsync($"{several["uri"]}/output", form)).StatusCode);
        }

        using var reader = fixture.Client(_token);
        var stalled = new List<(StalledRead Read, bool Zip)>();
        for (var i = 0; i < 2 * TransfersHost.PoolSize; i++)
        {
            var zip = i % 4 == 3;
            stalled.Add((await StartReading(reader, $"{(zip ? several : single)["uri"]}/output"), zip));
        }

        await AssertOrdinaryRequestsAnswer(single);

        // The stalled downloads were never cut off: each still gets its whole file.
        var rests = await Task.WhenAll(stalled.Select(s => s.Read.RestAsync()));
        foreach (var ((read, zip), bytes) in stalled.Zip(rests))
        {
            if (!zip)
            {
                Assert.Equal(file.Length, bytes.Length);
                Assert.Equal($"\"{Convert.ToHexStringLower(SHA256.HashData(file))}\"", read.Response.Headers.ETag!.Tag);
                Assert.Equal(SHA256.HashData(file), SHA256.HashData(bytes));
                continue;
            }
            await using var archive = await ZipArchive.CreateAsync(new MemoryStream(bytes), ZipArchiveMode.Read, leaveOpen: false, entryNameEncoding: null);
            Assert.Equal(["a.bin", "b.bin"], archive.Entries.Select(e => e.FullName));
            for (var p = 0; p < parts.Length; p++)
            {
                await using var entry = await archive.Entries[p].OpenAsync();
                Assert.Equal(SHA256.HashData(parts[p]), await SHA256.HashDataAsync(entry));
            }
        }
    }

    [Fact]
    public async Task Stalled_uploads_beyond_the_pool_size_leave_every_other_request_answering()
    {
        var gate = new TaskCompletionSource();
        var uploads = new List<(Task<HttpResponseMessage> Put, byte[] Bytes)>();
        using var uploader = fixture.Client(_token);
        JsonNode? run = null;
        for (var i = 0; i < 2 * TransfersHost.PoolSize; i++)
        {
            run = await SocketHost.StartedRunAsync(_client);
            var bytes = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
            uploads.Add((uploader.PutAsync($"{run["uri"]}/output", new GatedContent(bytes, 1536 * 1024, gate.Task, fileName: "out.bin")), bytes));
        }
        // Every upload is inside the server, its first chunk stored, the rest not yet sent.
        await WaitForBlobs(uploads.Count);

        await AssertOrdinaryRequestsAnswer(run!);

        gate.SetResult();
        foreach (var (put, bytes) in uploads)
        {
            var answer = await put;
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            var stored = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!["files"]![0]!;
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), (string)stored["sha256"]!);
        }
    }

    [Fact]
    public async Task An_upload_slower_than_the_request_time_out_still_succeeds()
    {
        var run = await SocketHost.StartedRunAsync(_client);
        var bytes = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
        var gate = new TaskCompletionSource();
        var put = _client.PutAsync($"{run["uri"]}/output", new GatedContent(bytes, 1536 * 1024, gate.Task, fileName: "slow.bin"));
        await WaitForBlobs(1);

        // A request that is not a transfer, started after the upload and stalled the same way, is stopped by
        // the time-out: by then the upload has taken longer than the time-out too.
        Assert.Equal(503, await StalledTriggerStatus());
        gate.SetResult();

        var answer = await put;
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(bytes, await _client.GetByteArrayAsync($"{run["uri"]}/output"));
    }

    [Fact]
    public async Task A_download_under_way_keeps_the_file_it_started_with_when_the_output_is_replaced()
    {
        var run = await SocketHost.StartedRunAsync(_client);
        var original = await PutOutput(run, "report.bin", 16 * 1024 * 1024);
        using var reader = fixture.Client(_token);
        var read = await StartReading(reader, $"{run["uri"]}/output");

        var replacement = await PutOutput(run, "report.bin", 1024);

        var bytes = await read.RestAsync();
        Assert.Equal(original.Length, read.Response.Content.Headers.ContentLength);
        Assert.Equal(SHA256.HashData(original), SHA256.HashData(bytes));
        Assert.Equal(replacement, await _client.GetByteArrayAsync($"{run["uri"]}/output"));
    }

    [Fact]
    public async Task A_stream_from_the_start_of_a_large_log_holds_a_page_not_the_log_and_resumes_without_loss()
    {
        var run = await SocketHost.StartedRunAsync(_client);
        const int Requests = 30, LinesPerRequest = 100, LineLength = 16_000;
        const int Lines = Requests * LinesPerRequest;
        for (var r = 0; r < Requests; r++)
        {
            var lines = Enumerable.Range(0, LinesPerRequest).Select(i => new { level = "info", message = new string((char)('a' + (r + i) % 26), LineLength) });
            var appended = await _client.PostAsync($"{run["uri"]}/log", SocketHost.Json(JsonSerializer.Serialize(new { lines })));
            Assert.Equal(HttpStatusCode.OK, appended.StatusCode);
        }
        const long LogBytes = (long)Lines * LineLength;

        var url = $"{run["uri"]}/log/stream";
        using var client = fixture.Client();
        var baseline = ManagedBytes();
        long peak = long.MinValue;
        var seen = new List<long>();
        await using (var stream = await EventStream.OpenAsync(client, url, _token))
        {
            // The old stream read the whole rest of the log before its first event: measure right then, and as it goes.
            while (seen.Count < Lines / 2)
            {
                var next = await stream.NextAsync() ?? throw new InvalidOperationException("The stream closed early.");
                if (next.Event == "log")
                {
                    seen.Add(long.Parse(next.Id!));
                    if (seen.Count % 500 == 1)
                    {
                        peak = Math.Max(peak, ManagedBytes() - baseline);
                    }
                }
            }
        }
        await using (var resumed = await EventStream.OpenAsync(client, url, _token, seen[^1].ToString()))
        {
            peak = Math.Max(peak, ManagedBytes() - baseline);
            while (seen.Count < Lines)
            {
                var next = await resumed.NextAsync() ?? throw new InvalidOperationException("The stream closed early.");
                if (next.Event == "log")
                {
                    seen.Add(long.Parse(next.Id!));
                }
            }
            Assert.True((await _client.PostAsync($"{run["uri"]}/succeed", null)).IsSuccessStatusCode);
            ServerSentEvent? last;
            while ((last = await resumed.NextAsync()) is { Comment: not null })
            {
            }
            Assert.Equal("state", last?.Event);
        }

        output.WriteLine($"log {LogBytes / 1024 / 1024} MiB; managed memory held by the stream at most {peak / 1024.0 / 1024:0.0} MiB");
        Assert.Equal(Enumerable.Range(1, Lines).Select(i => (long)i), seen);
        // Held as .NET strings the log would take twice its size; a page and the shared tail are a small part of it.
        Assert.True(peak < LogBytes / 4, $"the stream held {peak / (1024 * 1024)} MiB for a log of {LogBytes / (1024 * 1024)} MiB");
    }

    /// <summary>Managed memory in use after a full collection: what the process holds, not what it allocated.</summary>
    private static long ManagedBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>Waits until this many uploads have stored their first chunk.</summary>
    private async Task WaitForBlobs(int count)
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        for (var attempt = 0; attempt < 600; attempt++)
        {
            await using var query = new NpgsqlCommand("select count(distinct blob_id) from runs.run_file_chunks where blob_id not in (select blob_id from runs.run_files)", connection);
            if ((long)(await query.ExecuteScalarAsync())! >= count)
            {
                return;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"{count} uploads did not all start.");
    }

    [Fact]
    public async Task HEAD_answers_what_GET_answers_without_the_body()
    {
        var run = await SocketHost.StartedRunAsync(_client);
        var get = await _client.GetAsync((string)run["uri"]!);

        // On the wire, as `curl -I` sees it: the status and headers, and nothing after them.
        using var socket = new TcpClient();
        await socket.ConnectAsync(fixture.BaseAddress.Host, fixture.BaseAddress.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"HEAD {run["uri"]} HTTP/1.1\r\nHost: {fixture.BaseAddress.Authority}\r\nAuthorization: Bearer {_token}\r\nConnection: close\r\n\r\n"));
        var answer = await new StreamReader(stream, Encoding.ASCII).ReadToEndAsync();
        var (head, body) = (answer[..answer.IndexOf("\r\n\r\n")], answer[(answer.IndexOf("\r\n\r\n") + 4)..]);

        Assert.StartsWith("HTTP/1.1 200 ", head);
        Assert.Contains($"ETag: {get.Headers.ETag}", head);
        Assert.Contains("Content-Type: application/json", head);
        Assert.Equal("", body);
    }

    [Fact]
    public async Task HEAD_on_a_live_stream_ends_after_the_headers_and_the_connection_serves_the_next_request()
    {
        var run = await SocketHost.StartedRunAsync(_client);
        using var socket = new TcpClient();
        await socket.ConnectAsync(fixture.BaseAddress.Host, fixture.BaseAddress.Port);
        var stream = socket.GetStream();
        // A hang guard: on one kept-alive connection, a stream that went on after its headers would hold the next
        // answer back for its hour.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        async Task<string> Ask(string method, string path)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"{method} {path} HTTP/1.1\r\nHost: {fixture.BaseAddress.Authority}\r\nAuthorization: Bearer {_token}\r\n\r\n"), deadline.Token);
            var head = new StringBuilder();
            var one = new byte[1];
            while (!head.ToString().EndsWith("\r\n\r\n") && await stream.ReadAsync(one, deadline.Token) == 1)
            {
                head.Append((char)one[0]);
            }
            return head.ToString();
        }

        var streamed = await Ask("HEAD", $"{run["uri"]}/log/stream");
        var next = await Ask("HEAD", (string)run["uri"]!);

        Assert.StartsWith("HTTP/1.1 200 ", streamed);
        Assert.Contains("Content-Type: text/event-stream", streamed);
        Assert.StartsWith("HTTP/1.1 200 ", next);
    }

    /// <summary>
    /// A JSON trigger that sends its headers and the first 128 KiB of its body (white space: enough to stay above
    /// Kestrel's minimum body rate well past the time-out), then stalls; the status it is answered with.
    /// </summary>
    private async Task<int> StalledTriggerStatus()
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(fixture.BaseAddress.Host, fixture.BaseAddress.Port);
        var stream = socket.GetStream();
        var request = $"POST /v1/jobs/nightly/runs HTTP/1.1\r\nHost: {fixture.BaseAddress.Authority}\r\nAuthorization: Bearer {_token}\r\n" +
            $"Content-Type: application/json\r\nContent-Length: {512 * 1024}\r\n\r\n{{" + new string(' ', 128 * 1024);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var answer = new StreamReader(stream, Encoding.ASCII);
        var status = await answer.ReadLineAsync() ?? throw new InvalidOperationException("No answer.");
        return int.Parse(status.Split(' ')[1]);
    }
}

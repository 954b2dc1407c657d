
namespace Runs.Host.Tests.Harness;

/// <summary>One server-sent event or comment as a client receives it.</summary>
public sealed record ServerSentEvent(string? Id, string? Event, string? Data, string? Comment);

/// <summary>Reads a text/event-stream response as a real client does, event by event.</summary>
public sealed class EventStream(HttpResponseMessage response, Stream body) : IAsyncDisposable
{
    private readonly StreamReader _reader = new(body, Encoding.UTF8);

    public HttpResponseMessage Response { get; } = response;

    public static async Task<EventStream> OpenAsync(HttpClient client, string url, string token, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("Authorization", $"Bearer {token}");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return new EventStream(response, await response.Content.ReadAsStreamAsync());
    }

    /// <summary>The next event or comment; null when the server closed the stream.</summary>
    public async Task<ServerSentEvent?> NextAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        string? id = null, name = null, comment = null;
        var data = new List<string>();
        while (true)
        {
            var line = await _reader.ReadLineAsync(cancel.Token);
            if (line is null)
            {
                return null;
            }
            if (line.Length == 0)
            {
                if (id is not null || name is not null || data.Count > 0 || comment is not null)
                {
                    return new ServerSentEvent(id, name, data.Count > 0 ? string.Join('\n', data) : null, comment);
                }
                continue;
            }
            if (line.StartsWith(':'))
            {
                comment = line[1..].Trim();
            }
            else if (line.StartsWith("id:"))
            {
                id = line[3..].Trim();
            }
            else if (line.StartsWith("event:"))
            {
                name = line[6..].Trim();
            }
            else if (line.StartsWith("data:"))
            {
                data.Add(line[5..].TrimStart());
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        Response.Dispose();
        await Task.CompletedTask;
    }
}


namespace Runs.Host.Tests.Harness;

/// <summary>A request body that sends its first part at once and the rest only when the test opens the gate: a slow uploader.</summary>
public sealed class GatedContent : HttpContent
{
    private readonly byte[] _bytes;
    private readonly int _first;
    private readonly Task _gate;

    public GatedContent(byte[] bytes, int first, Task gate, string contentType = "application/octet-stream", string? fileName = null)
    {
        (_bytes, _first, _gate) = (bytes, first, gate);
        Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (fileName is not null)
        {
            Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = fileName };
        }
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await stream.WriteAsync(_bytes.AsMemory(0, _first));
        await stream.FlushAsync();
        await _gate;
        await stream.WriteAsync(_bytes.AsMemory(_first));
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _bytes.Length;
        return true;
    }
}

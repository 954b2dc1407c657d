using System.Buffers;
using System.Globalization;

namespace Runs.Domain.Ledger;

/// <summary>An event as the chain sees it: what the events list shows of it, less its sequence number.</summary>
public sealed record ChainedEvent(
    string Stream, long Version, string Type, DateTimeOffset Timestamp, JsonElement Data,
    string? User, string? CorrelationId, string? CausationId);

/// <summary>A link of a run's chain as stored: the event's hash and the hash before it (null for version 1).</summary>
public sealed record ChainLink(long Version, string Hash, string? PreviousHash);

/// <summary>
/// Each event's hash is SHA-256 over the previous event's hash (64 lowercase hex characters; nothing for
/// version 1) followed by the event's canonical encoding: the canonical JSON (<see cref="CanonicalJson"/>) of
/// <c>{"data", "metadata": {"causation_id", "correlation_id", "user"}, "stream", "timestamp", "type", "version"}</c>,
/// where <c>type</c> is the event type as the events list names it, <c>timestamp</c> is RFC 3339 UTC with
/// milliseconds, and <c>data</c> leaves out what retention may purge (<see cref="Purgeable"/>). docs/ledger.md
/// spells it out byte by byte.
/// </summary>
public static class EventChain
{
    /// <summary>
    /// Members of an event's data that retention may remove. They enter the chain only through a digest the
    /// event keeps (a batch's error lines are lines its <c>sha256</c> covers), so a purged run still verifies.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyCollection<string>> Purgeable =
        new Dictionary<string, IReadOnlyCollection<string>>
        {
            [nameof(LogAppended)] = ["error_lines"],
        };

    public static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static byte[] Canonical(ChainedEvent e)
    {
        var output = new ArrayBufferWriter<byte>();
        output.Write("{\"data\":"u8);
        CanonicalJson.Write(output, e.Data, Purgeable.GetValueOrDefault(e.Type));
        output.Write(",\"metadata\":{\"causation_id\":"u8);
        CanonicalJson.WriteString(output, e.CausationId);
        output.Write(",\"correlation_id\":"u8);
        CanonicalJson.WriteString(output, e.CorrelationId);
        output.Write(",\"user\":"u8);
        CanonicalJson.WriteString(output, e.User);
        output.Write("},\"stream\":"u8);
        CanonicalJson.WriteString(output, e.Stream);
        output.Write(",\"timestamp\":"u8);
        CanonicalJson.WriteString(output, Timestamp(e.Timestamp));
        output.Write(",\"type\":"u8);
        CanonicalJson.WriteString(output, e.Type);
        output.Write(",\"version\":"u8);
        output.Write(Encoding.ASCII.GetBytes(e.Version.ToString(CultureInfo.InvariantCulture)));
        output.Write("}"u8);
        return output.WrittenSpan.ToArray();
    }

    public static string Hash(string? previousHash, ReadOnlySpan<byte> canonical)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (previousHash is not null)
        {
            hash.AppendData(Encoding.ASCII.GetBytes(previousHash));
        }
        hash.AppendData(canonical);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public static string Hash(string? previousHash, ChainedEvent e) => Hash(previousHash, Canonical(e));
}

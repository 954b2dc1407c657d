using System.Security.Cryptography;

namespace Runs.Domain;

/// <summary>
/// Finds every occurrence of a set of secret forms in time linear in the text, whatever the forms and
/// the text (a per-form <c>IndexOf</c> costs text × forms, and more on repetitive text; .NET's
/// multi-string <c>SearchValues</c> is linear only past 80 strings, at ~75 bytes per indexed
/// character). Forms longer than <see cref="ChunkLength"/> are indexed as chunks of that length, so
/// there are at most <see cref="ChunkLength"/> − <see cref="Scrubber.MinimumSecretLength"/> + 1 window
/// lengths. Each is one pass of a rolling fingerprint (Rabin–Karp modulo 2⁶⁴), and a hit is compared
/// exactly.
/// </summary>
internal sealed class SecretIndex
{
    /// <summary>Longer forms are found chunk by chunk, so a part of one (a cut, a wrapped line) is found too.</summary>
    public const int ChunkLength = 32;

    private const int FilterBitsLog2 = 14;

    // Drawn per process (odd, above any character), so collisions cannot be aimed at it; those that work
    // for every base modulo 2⁶⁴ need windows of thousands of characters. A collision costs a comparison.
    private static readonly ulong Base = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)) | 0x1_0001;

    private readonly Window[] _windows;

    public SecretIndex(IEnumerable<string> forms)
    {
        var byLength = new Dictionary<int, Window>();
        foreach (var form in forms)
        {
            foreach (var chunk in Chunks(form))
            {
                if (!byLength.TryGetValue(chunk.Length, out var window))
                {
                    byLength[chunk.Length] = window = new Window(chunk.Length);
                }
                window.Add(chunk);
            }
        }
        _windows = [.. byLength.Values];
    }

    public bool IsEmpty => _windows.Length == 0;

    /// <summary>Sets <paramref name="covered"/> for every character of <paramref name="text"/> inside an occurrence.</summary>
    public void Mark(ReadOnlySpan<char> text, Span<bool> covered)
    {
        foreach (var window in _windows)
        {
            window.Mark(text, covered);
        }
    }

    /// <summary>The form itself, or chunks at every multiple of the chunk length plus one ending with the form.</summary>
    private static IEnumerable<ReadOnlyMemory<char>> Chunks(string form)
    {
        if (form.Length <= ChunkLength)
        {
            yield return form.AsMemory();
            yield break;
        }
        for (var start = 0; start + ChunkLength <= form.Length; start += ChunkLength)
        {
            yield return form.AsMemory(start, ChunkLength);
        }
        if (form.Length % ChunkLength != 0)
        {
            yield return form.AsMemory(form.Length - ChunkLength, ChunkLength);
        }
    }

    private static ulong Fingerprint(ReadOnlySpan<char> text)
    {
        ulong hash = 0;
        foreach (var c in text)
        {
            hash = unchecked(hash * Base + c);
        }
        return hash;
    }

    private static int FilterSlot(ulong hash) => (int)(hash >> (64 - FilterBitsLog2));

    /// <summary>The chunks of one length, by fingerprint, behind a bit filter that most windows fail.</summary>
    private sealed class Window(int length)
    {
        private readonly Dictionary<ulong, List<ReadOnlyMemory<char>>> _chunks = [];
        private readonly ulong[] _filter = new ulong[(1 << FilterBitsLog2) / 64];
        private readonly ulong _power = Power(length);

        public void Add(ReadOnlyMemory<char> chunk)
        {
            var hash = Fingerprint(chunk.Span);
            if (!_chunks.TryGetValue(hash, out var same))
            {
                _chunks[hash] = same = [];
            }
            if (!same.Any(c => c.Span.SequenceEqual(chunk.Span)))
            {
                same.Add(chunk);
            }
            _filter[FilterSlot(hash) >> 6] |= 1UL << FilterSlot(hash);
        }

        public void Mark(ReadOnlySpan<char> text, Span<bool> covered)
        {
            if (text.Length < length)
            {
                return;
            }
            var hash = Fingerprint(text[..length]);
            var markedUntil = 0;
            for (var start = 0; ; start++)
            {
                var slot = FilterSlot(hash);
                if ((_filter[slot >> 6] & (1UL << slot)) != 0 && Holds(hash, text.Slice(start, length)))
                {
                    // Only what earlier hits of this length left unmarked, so overlapping hits cost no more.
                    var from = Math.Max(start, markedUntil);
                    covered[from..(start + length)].Fill(true);
                    markedUntil = start + length;
                }
                if (start + length == text.Length)
                {
                    return;
                }
                hash = unchecked(hash * Base + text[start + length] - text[start] * _power);
            }
        }

        private bool Holds(ulong hash, ReadOnlySpan<char> candidate)
        {
            if (!_chunks.TryGetValue(hash, out var same))
            {
                return false;
            }
            foreach (var chunk in same)
            {
                if (chunk.Span.SequenceEqual(candidate))
                {
                    return true;
                }
            }
            return false;
        }

        private static ulong Power(int exponent)
        {
            ulong power = 1;
            for (var i = 0; i < exponent; i++)
            {
                power = unchecked(power * Base);
            }
            return power;
        }
    }
}

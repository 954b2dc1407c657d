using System.Numerics;

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

    // Drawn per process (odd, above any character), so collisions cannot be aimed at it; those that work
    // for every base modulo 2⁶⁴ need windows of thousands of characters. A collision costs a comparison.
    private static readonly ulong Base = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)) | 0x1_0001;

    private readonly Window[] _windows;

    public SecretIndex(IEnumerable<string> forms) =>
        _windows = [.. forms.SelectMany(Chunks).GroupBy(c => c.Length).Select(g => new Window(g.Key, [.. g]))];

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

    /// <summary>
    /// The chunks of one length by fingerprint (a second table holds the rare distinct chunks that share
    /// one), behind a bit filter, about eight bits per chunk, that most windows of a text fail.
    /// </summary>
    private sealed class Window
    {
        private readonly int _length;
        private readonly ulong _power;
        private readonly Dictionary<ulong, ReadOnlyMemory<char>> _chunks = [];
        private readonly Dictionary<ulong, List<ReadOnlyMemory<char>>> _sharing = [];
        private readonly ulong[] _filter;
        private readonly int _filterShift;

        public Window(int length, IReadOnlyList<ReadOnlyMemory<char>> chunks)
        {
            _length = length;
            _power = 1;
            for (var i = 0; i < length; i++)
            {
                _power = unchecked(_power * Base);
            }
            var filterBits = Math.Clamp(BitOperations.Log2((uint)chunks.Count * 8) + 1, 12, 24);
            _filter = new ulong[(1 << filterBits) / 64];
            _filterShift = 64 - filterBits;
            foreach (var chunk in chunks)
            {
                Add(chunk);
            }
        }

        public void Mark(ReadOnlySpan<char> text, Span<bool> covered)
        {
            if (text.Length < _length)
            {
                return;
            }
            var hash = Fingerprint(text[.._length]);
            var markedUntil = 0;
            for (var start = 0; ; start++)
            {
                var slot = (int)(hash >> _filterShift);
                if ((_filter[slot >> 6] & (1UL << slot)) != 0 && Holds(hash, text.Slice(start, _length)))
                {
                    // Only what earlier hits of this length left unmarked, so overlapping hits cost no more.
                    var from = Math.Max(start, markedUntil);
                    covered[from..(start + _length)].Fill(true);
                    markedUntil = start + _length;
                }
                if (start + _length == text.Length)
                {
                    return;
                }
                hash = unchecked(hash * Base + text[start + _length] - text[start] * _power);
            }
        }

        private void Add(ReadOnlyMemory<char> chunk)
        {
            var hash = Fingerprint(chunk.Span);
            if (!_chunks.TryAdd(hash, chunk) && !Holds(hash, chunk.Span))
            {
                if (!_sharing.TryGetValue(hash, out var sharing))
                {
                    _sharing[hash] = sharing = [];
                }
                sharing.Add(chunk);
            }
            var slot = (int)(hash >> _filterShift);
            _filter[slot >> 6] |= 1UL << slot;
        }

        private bool Holds(ulong hash, ReadOnlySpan<char> candidate)
        {
            if (!_chunks.TryGetValue(hash, out var chunk))
            {
                return false;
            }
            if (chunk.Span.SequenceEqual(candidate))
            {
                return true;
            }
            if (_sharing.Count > 0 && _sharing.TryGetValue(hash, out var sharing))
            {
                foreach (var other in sharing)
                {
                    if (other.Span.SequenceEqual(candidate))
                    {
                        return true;
                    }
                }
            }
            return false;
        }
    }
}

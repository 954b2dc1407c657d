using System.Buffers;
using System.Text.Encodings.Web;

namespace Runs.Domain;

/// <summary>
/// Rules for the free-form JSON clients hand the ledger to keep (a run's input, telemetry summary values,
/// samples): every reader re-emits it a few levels deeper than it was sent, and PostgreSQL must be able to
/// store its numbers and text, so nesting is bounded, numbers stay within <c>numeric</c>'s range and no
/// string holds U+0000.
/// </summary>
public static class StoredJson
{
    /// <summary>PostgreSQL's <c>numeric</c> (and so jsonb's numbers): digits before the decimal point.</summary>
    public const int MaxDigitsBeforePoint = 131_072;

    /// <summary>PostgreSQL's <c>numeric</c>: digits after the decimal point.</summary>
    public const int MaxDigitsAfterPoint = 16_383;

    /// <summary>Exponents past this are refused whatever the digits: only a zero could carry one and still be in range.</summary>
    private const long MaxExponent = 999_999_999;

    public static string NumberRule =>
        $"holds a number outside PostgreSQL's numeric range (at most {MaxDigitsBeforePoint} digits before the decimal point and {MaxDigitsAfterPoint} after)";

    public static string DepthRule(int maxDepth) => $"is nested more than {maxDepth} levels deep (at most {maxDepth} are stored)";

    /// <summary>PostgreSQL's text and jsonb cannot hold U+0000, so text carrying it is refused as it arrives.</summary>
    public const string NulRule = "contains the NUL character (U+0000), which PostgreSQL text cannot hold";

    /// <summary>A field or parameter name refused for its U+0000, spelled out so an answer can name it in printable text.</summary>
    public static string Printable(string name) => name.Replace("\0", "\\u0000");

    /// <summary>
    /// Whether the string or property name the reader is on holds U+0000. JSON can only carry it as a \u escape,
    /// so only a value with one is decoded — which also refuses a lone surrogate (<c>"\ud800"</c>), text no
    /// writer can send back.
    /// </summary>
    public static bool HoldsNul(ref Utf8JsonReader reader) =>
        reader.ValueIsEscaped
        && (reader.HasValueSequence || reader.ValueSpan.IndexOf("\\u"u8) >= 0)
        && reader.GetString()!.Contains('\0');

    /// <summary>
    /// Reads one JSON value (the reader on its first token, left on its last) and says what is wrong with
    /// it, as a phrase to follow the field's name, or null when it may be stored. A scalar has depth 0,
    /// <c>[]</c> depth 1, <c>[[]]</c> depth 2.
    /// </summary>
    public static string? Refusal(ref Utf8JsonReader reader, int maxDepth)
    {
        var start = reader.CurrentDepth;
        while (true)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject or JsonTokenType.StartArray when reader.CurrentDepth - start + 1 > maxDepth:
                    return DepthRule(maxDepth);
                case JsonTokenType.Number when !FitsNumeric(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan):
                    return NumberRule;
                case JsonTokenType.String or JsonTokenType.PropertyName when HoldsNul(ref reader):
                    return NulRule;
            }
            // A scalar, or the end of the object or array the value is.
            if (reader.CurrentDepth == start && reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
            {
                return null;
            }
            // The serializer hands a converter whole values, so the value's last token always comes.
            if (!reader.Read())
            {
                return null;
            }
        }
    }

    /// <summary>Whether PostgreSQL can store this JSON number (its text, as sent) in a jsonb value.</summary>
    public static bool FitsNumeric(ReadOnlySpan<byte> number)
    {
        var i = number.Length > 0 && number[0] == '-' ? 1 : 0;
        var integerStart = i;
        while (i < number.Length && IsDigit(number[i]))
        {
            i++;
        }
        var integer = number[integerStart..i];
        var fraction = ReadOnlySpan<byte>.Empty;
        if (i < number.Length && number[i] == '.')
        {
            var fractionStart = ++i;
            while (i < number.Length && IsDigit(number[i]))
            {
                i++;
            }
            fraction = number[fractionStart..i];
        }
        long exponent = 0;
        if (i < number.Length && (number[i] | 0x20) == 'e')
        {
            i++;
            var negative = i < number.Length && number[i] == '-';
            if (i < number.Length && number[i] is (byte)'-' or (byte)'+')
            {
                i++;
            }
            for (; i < number.Length && IsDigit(number[i]); i++)
            {
                exponent = Math.Min(exponent * 10 + (number[i] - '0'), MaxExponent + 1);
            }
            exponent = negative ? -exponent : exponent;
        }
        if (Math.Abs(exponent) > MaxExponent || Math.Max(0, fraction.Length - exponent) > MaxDigitsAfterPoint)
        {
            return false;
        }

        // Leading zeros (in the integer part or after the point) do not count as digits before the point.
        var firstSignificant = integer.IndexOfAnyExcept((byte)'0');
        if (firstSignificant < 0)
        {
            var inFraction = fraction.IndexOfAnyExcept((byte)'0');
            if (inFraction < 0)
            {
                return true;
            }
            firstSignificant = integer.Length + inFraction;
        }
        return integer.Length + exponent - firstSignificant <= MaxDigitsBeforePoint;
    }

    /// <summary>Bytes of the value as compact UTF-8 JSON, however the client spaced it.</summary>
    public static long Size(JsonElement value)
    {
        var counter = new ByteCounter();
        using (var writer = new Utf8JsonWriter(counter, Compact))
        {
            value.WriteTo(writer);
        }
        return counter.Count;
    }

    /// <summary>Bytes of the object as compact UTF-8 JSON.</summary>
    public static long Size(IEnumerable<KeyValuePair<string, JsonElement>> properties)
    {
        var counter = new ByteCounter();
        using (var writer = new Utf8JsonWriter(counter, Compact))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in properties)
            {
                writer.WritePropertyName(key);
                value.WriteTo(writer);
            }
            writer.WriteEndObject();
        }
        return counter.Count;
    }

    private static readonly JsonWriterOptions Compact = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    /// <summary>Counts what a writer writes, in one small reused buffer.</summary>
    private sealed class ByteCounter : IBufferWriter<byte>
    {
        private byte[] _buffer = new byte[1024];

        public long Count { get; private set; }

        public void Advance(int count) => Count += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => Ensure(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => Ensure(sizeHint);

        private byte[] Ensure(int sizeHint)
        {
            if (sizeHint > _buffer.Length)
            {
                _buffer = new byte[sizeHint];
            }
            return _buffer;
        }
    }
}

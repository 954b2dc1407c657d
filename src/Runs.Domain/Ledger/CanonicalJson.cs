using System.Buffers;

namespace Runs.Domain.Ledger;

/// <summary>
/// One byte sequence for every JSON text that means the same value, so a hash over it survives
/// PostgreSQL's jsonb (which reorders keys, drops whitespace, keeps the last of duplicate keys and
/// rewrites numbers) and can be recomputed by anyone with a few lines of code (docs/ledger.md):
/// no whitespace; object members sorted by the UTF-8 bytes of their names, the last of duplicates
/// kept; strings as UTF-8 with only <c>"</c>, <c>\</c> and U+0000–U+001F escaped (<c>\"</c>, <c>\\</c>,
/// <c>\u00xx</c>); numbers in plain decimal (see <see cref="Number"/>); <c>true</c>, <c>false</c>, <c>null</c>.
/// </summary>
public static class CanonicalJson
{
    public static byte[] Encode(JsonElement value)
    {
        var output = new ArrayBufferWriter<byte>();
        Write(output, value);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Writes <paramref name="value"/>; <paramref name="omit"/> names members of a top-level object left out.</summary>
    public static void Write(IBufferWriter<byte> output, JsonElement value, IReadOnlyCollection<string>? omit = null)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var members = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
                foreach (var member in value.EnumerateObject())
                {
                    if (omit is null || !omit.Contains(member.Name))
                    {
                        members[member.Name] = member.Value;
                    }
                }
                output.Write("{"u8);
                var first = true;
                foreach (var (name, bytes) in members.Keys.Select(k => (k, Encoding.UTF8.GetBytes(k))).OrderBy(k => k.Item2, Utf8Order.Instance))
                {
                    if (!first)
                    {
                        output.Write(","u8);
                    }
                    first = false;
                    WriteString(output, bytes);
                    output.Write(":"u8);
                    Write(output, members[name]);
                }
                output.Write("}"u8);
                break;
            case JsonValueKind.Array:
                output.Write("["u8);
                var index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    if (index++ > 0)
                    {
                        output.Write(","u8);
                    }
                    Write(output, item);
                }
                output.Write("]"u8);
                break;
            case JsonValueKind.String:
                WriteString(output, value.GetString()!);
                break;
            case JsonValueKind.Number:
                output.Write(Encoding.ASCII.GetBytes(Number(value.GetRawText())));
                break;
            case JsonValueKind.True:
                output.Write("true"u8);
                break;
            case JsonValueKind.False:
                output.Write("false"u8);
                break;
            default:
                output.Write("null"u8);
                break;
        }
    }

    public static void WriteString(IBufferWriter<byte> output, string? value)
    {
        if (value is null)
        {
            output.Write("null"u8);
            return;
        }
        WriteString(output, Encoding.UTF8.GetBytes(value));
    }

    private static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<byte> utf8)
    {
        output.Write("\""u8);
        var start = 0;
        for (var i = 0; i < utf8.Length; i++)
        {
            var b = utf8[i];
            if (b is (byte)'"' or (byte)'\\' or < 0x20)
            {
                output.Write(utf8[start..i]);
                output.Write(b switch
                {
                    (byte)'"' => "\\\""u8,
                    (byte)'\\' => "\\\\"u8,
                    _ => Encoding.ASCII.GetBytes($"\\u{b:x4}"),
                });
                start = i + 1;
            }
        }
        output.Write(utf8[start..]);
        output.Write("\""u8);
    }

    /// <summary>
    /// A JSON number in plain decimal: no exponent, no leading zeros (one <c>0</c> before a point),
    /// no trailing zeros after the point and no point without digits after it, <c>-</c> only before a
    /// value other than zero. <c>1E2</c>, <c>100.00</c> and <c>100</c> are all <c>100</c>; <c>-0.0</c> is <c>0</c>.
    /// </summary>
    public static string Number(string text)
    {
        var negative = text.StartsWith('-');
        var body = negative ? text[1..] : text;
        var e = body.IndexOfAny(['e', 'E']);
        var exponent = e < 0 ? 0 : long.Parse(body[(e + 1)..], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture);
        var mantissa = e < 0 ? body : body[..e];
        var point = mantissa.IndexOf('.');
        var digits = point < 0 ? mantissa : string.Concat(mantissa.AsSpan(0, point), mantissa.AsSpan(point + 1));
        // Where the decimal point falls within the digits.
        var position = (point < 0 ? mantissa.Length : point) + exponent;

        var leading = digits.Length - digits.TrimStart('0').Length;
        digits = digits[leading..].TrimEnd('0');
        position -= leading;
        if (digits.Length == 0)
        {
            return "0";
        }
        var plain = position <= 0
            ? "0." + new string('0', (int)-position) + digits
            : position >= digits.Length
                ? digits + new string('0', (int)(position - digits.Length))
                : digits[..(int)position] + "." + digits[(int)position..];
        return negative ? "-" + plain : plain;
    }

    private sealed class Utf8Order : IComparer<byte[]>
    {
        public static readonly Utf8Order Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}

using System.Net;
using System.Text.Encodings.Web;

namespace Runs.Domain;

/// <summary>
/// The shapes in which a secret value turns up in logs: as sent but trimmed, line by line when it has
/// several lines (PEM keys, JSON credentials), and URL-, JSON- and base64-encoded.
/// </summary>
internal static class SecretForms
{
    /// <summary>
    /// The value trimmed; for several lines, the value with either line ending, each line, and the
    /// lines run together.
    /// </summary>
    public static IEnumerable<string> Plain(string value)
    {
        var trimmed = value.Trim();
        yield return trimmed;
        var lines = trimmed.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        if (lines.Length > 1)
        {
            var unix = trimmed.ReplaceLineEndings("\n");
            yield return unix;
            yield return unix.Replace("\n", "\r\n", StringComparison.Ordinal);
            foreach (var line in lines)
            {
                yield return line;
            }
            // A runner that wraps or re-chunks output drops the line breaks.
            yield return string.Concat(lines);
        }
    }

    /// <summary>
    /// The trimmed value as URL encoders (percent and form), JSON writers (minimal, System.Text.Json's
    /// default, escaped slashes) and base64 (standard and URL-safe) write it. Base64 of a value depends
    /// on where it starts within the encoded bytes (as in <c>user:secret</c> for Basic auth), so each of
    /// the three alignments contributes the characters that depend on the value's bytes alone.
    /// </summary>
    public static IEnumerable<string> Encoded(string value)
    {
        var trimmed = value.Trim();
        yield return Uri.EscapeDataString(trimmed);
        yield return WebUtility.UrlEncode(trimmed);
        var minimal = JsonEncodedText.Encode(trimmed, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).Value;
        yield return minimal;
        yield return minimal.Replace("/", "\\/", StringComparison.Ordinal);
        yield return JsonEncodedText.Encode(trimmed).Value;

        var bytes = Encoding.UTF8.GetBytes(trimmed);
        for (var shift = 0; shift < 3; shift++)
        {
            var shifted = new byte[shift + bytes.Length];
            bytes.CopyTo(shifted, shift);
            var encoded = Convert.ToBase64String(shifted);
            // Character k holds bits 6k..6k+5; keep those that lie wholly within the value's bits.
            var first = (8 * shift + 5) / 6;
            var end = 8 * (shift + bytes.Length) / 6;
            if (end <= first)
            {
                continue;
            }
            var stable = encoded[first..end];
            yield return stable;
            yield return stable.Replace('+', '-').Replace('/', '_');
        }
    }
}

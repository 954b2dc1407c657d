using System.Text.RegularExpressions;

namespace Runs.Domain;

/// <summary>
/// Replaces credentials with <c>[REDACTED]</c> before text is stored: the run's secret env values in
/// the forms <see cref="SecretForms"/> lists, and common credential shapes (bearer and Basic
/// credentials, passwords in URLs, <c>PASSWORD=</c>-style keys in env listings, connection strings,
/// JSON, YAML and query strings, known token prefixes, AWS access keys).
/// Its cost is linear in the text on any input: secrets are found by <see cref="SecretIndex"/>, the
/// shapes by non-backtracking expressions, and log lines are cut before either reads them.
/// </summary>
public sealed partial class Scrubber
{
    public const string Redacted = "[REDACTED]";

    // Very short secrets would redact ordinary words; they are still encrypted at rest, just not scrubbed.
    public const int MinimumSecretLength = 4;

    /// <summary>Characters of secret forms the scrubber looks for, when nothing else is configured.</summary>
    public const int DefaultMaxFormChars = 256 * 1024;

    /// <summary>
    /// How far past a cut a line is read, so that every secret chunk, known token and URL credential
    /// of up to this length that starts before the cut is recognized (a URL's password is one only
    /// with its closing <c>@</c>).
    /// </summary>
    public const int Reach = 1024;

    private const RegexOptions Linear = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture;
    private const RegexOptions LinearAnyCase = Linear | RegexOptions.IgnoreCase;

    private readonly SecretIndex _secrets;

    /// <summary>
    /// Every secret (trimmed, 4 characters or more) is looked for as sent and line by line, then in its
    /// encoded forms, shortest secrets first, while the forms total at most
    /// <paramref name="maxFormChars"/> characters: that bounds what building a scrubber costs (it is
    /// built for every write) however large a run's secrets are.
    /// </summary>
    public Scrubber(IEnumerable<string> secretValues, int maxFormChars = DefaultMaxFormChars)
    {
        var values = secretValues.Select(v => (Value: v, Length: v.Trim().Length))
            .Where(v => v.Length >= MinimumSecretLength).OrderBy(v => v.Length).ToList();
        var forms = new HashSet<string>(StringComparer.Ordinal);
        var budget = maxFormChars;
        foreach (var formsOf in new Func<string, IEnumerable<string>>[] { SecretForms.Plain, SecretForms.Encoded })
        {
            // A value longer than what is left is skipped whole rather than scrubbed in part.
            foreach (var (value, _) in values.TakeWhile(v => v.Length <= budget))
            {
                foreach (var form in formsOf(value).Where(f => f.Length >= MinimumSecretLength && f.Length <= budget))
                {
                    if (forms.Add(form))
                    {
                        budget -= form.Length;
                    }
                }
            }
        }
        _secrets = new SecretIndex(forms);
    }

    public static readonly Scrubber Patterns = new([]);

    /// <summary>Scrubs one whole text, such as an error summary or a reason (their length is validated).</summary>
    public string Scrub(string text)
    {
        var covered = new bool[text.Length];
        _secrets.Mark(text, covered);
        MarkShapes(text, covered);
        return covered.AsSpan().Contains(true) ? Render(text, covered, text.Length, int.MaxValue, "") : text;
    }

    /// <summary>
    /// Scrubs a batch of log lines and cuts each to <paramref name="maxLength"/>, ending a cut line with
    /// <paramref name="cutMarker"/>. A line is cut to <paramref name="maxLength"/> + <see cref="Reach"/>
    /// before anything is sought and to <paramref name="maxLength"/> after, so the work is bounded
    /// by the batch's size and a cut never leaves part of a secret behind. Secrets are also sought in
    /// the lines run together, which finds one split across two lines.
    /// </summary>
    public IReadOnlyList<string> ScrubLines(IReadOnlyList<string> lines, int maxLength, string cutMarker)
    {
        var window = (int)Math.Min((long)maxLength + Reach, int.MaxValue);
        var starts = new int[lines.Count + 1];
        var joined = new StringBuilder();
        for (var i = 0; i < lines.Count; i++)
        {
            starts[i] = joined.Length;
            joined.Append(lines[i].AsSpan(0, Math.Min(lines[i].Length, window)));
        }
        starts[lines.Count] = joined.Length;
        var text = joined.ToString();

        var covered = new bool[text.Length];
        _secrets.Mark(text, covered);
        var scrubbed = new string[lines.Count];
        for (var i = 0; i < lines.Count; i++)
        {
            var (start, length) = (starts[i], starts[i + 1] - starts[i]);
            MarkShapes(text.AsSpan(start, length), covered.AsSpan(start, length));
            scrubbed[i] = lines[i].Length <= maxLength && !covered.AsSpan(start, length).Contains(true)
                ? lines[i]
                : Render(text.AsSpan(start, length), covered.AsSpan(start, length), lines[i].Length, maxLength, cutMarker);
        }
        return scrubbed;
    }

    private static void MarkShapes(ReadOnlySpan<char> text, Span<bool> covered)
    {
        foreach (var shape in Shapes)
        {
            foreach (var match in shape.Pattern.EnumerateMatches(text))
            {
                var found = text.Slice(match.Index, match.Length);
                var (offset, length) = shape.Value(found).GetOffsetAndLength(found.Length);
                covered.Slice(match.Index + offset, length).Fill(true);
            }
        }
    }

    /// <summary>
    /// What was sent before the cut at <paramref name="max"/> (<paramref name="text"/> holds more when
    /// the line was longer) with each covered stretch as one <see cref="Redacted"/>, in at most
    /// <paramref name="max"/> characters; when anything was left out, <paramref name="cutMarker"/> follows.
    /// </summary>
    private static string Render(ReadOnlySpan<char> text, ReadOnlySpan<bool> covered, int originalLength, int max, string cutMarker)
    {
        var visible = Math.Min(originalLength, max);
        var output = new StringBuilder(Math.Min(visible + cutMarker.Length, 4096));
        var cut = originalLength > max;
        var at = 0;
        while (at < visible)
        {
            var next = covered[at..visible].IndexOf(true);
            var plainEnd = next < 0 ? visible : at + next;
            var room = max - output.Length;
            if (plainEnd - at > room)
            {
                output.Append(text[at..(at + room)]);
                cut = true;
                break;
            }
            output.Append(text[at..plainEnd]);
            at = plainEnd;
            if (at == visible)
            {
                break;
            }
            if (Redacted.Length > max - output.Length)
            {
                cut = true;
                break;
            }
            output.Append(Redacted);
            var runEnd = covered[at..].IndexOf(false);
            at = runEnd < 0 ? covered.Length : at + runEnd;
        }
        if (cut)
        {
            output.Append(cutMarker);
        }
        return output.ToString();
    }

    /// <summary>Where, within a match, the credential is: the rest of the match stays readable.</summary>
    private delegate Range ValueOf(ReadOnlySpan<char> match);

    private sealed record Shape(Regex Pattern, ValueOf Value);

    private static readonly Shape[] Shapes =
    [
        new(Bearer(), AfterBlanks),
        new(Authorization(), m => AfterLastBlank(m, AfterSeparator(m))),
        new(UrlPassword(), m => (m[3..].IndexOf(':') + 4)..^1),
        new(KeyValue(), m => AfterSeparator(m)..),
        new(KnownToken(), m => (m.StartsWith("github_pat_") ? "github_pat_".Length : m.IndexOfAny('_', '-') + 1)..),
        new(AwsAccessKey(), _ => ..),
    ];

    private static Range AfterBlanks(ReadOnlySpan<char> match)
    {
        var at = 0;
        while (!char.IsWhiteSpace(match[at]))
        {
            at++;
        }
        while (char.IsWhiteSpace(match[at]))
        {
            at++;
        }
        return at..;
    }

    /// <summary>After the first <c>=</c> or <c>:</c>, the blanks after it and an opening quote.</summary>
    private static int AfterSeparator(ReadOnlySpan<char> match)
    {
        var at = match.IndexOfAny('=', ':') + 1;
        while (at < match.Length && match[at] is ' ' or '\t')
        {
            at++;
        }
        return at < match.Length && match[at] is '"' or '\'' ? at + 1 : at;
    }

    /// <summary>Past a scheme word (<c>Basic</c>, <c>Token</c>) when the value has one.</summary>
    private static Range AfterLastBlank(ReadOnlySpan<char> match, int from)
    {
        var blank = match[from..].LastIndexOfAny(' ', '\t');
        return (blank < 0 ? from : from + blank + 1)..;
    }

    [GeneratedRegex(@"\bbearer\s+[a-z0-9\-._~+/]+=*", LinearAnyCase)]
    private static partial Regex Bearer();

    [GeneratedRegex(@"\b(proxy-)?authorization[""']?[ \t]*[:=][ \t]*[""']?([a-z][a-z0-9-]*[ \t]+)?[^\s""',;]+", LinearAnyCase)]
    private static partial Regex Authorization();

    // Anchored on "://" rather than on every letter that could begin a scheme (the review's H1).
    [GeneratedRegex(@"://[^\s:/@]*:[^\s@/]+@", Linear)]
    private static partial Regex UrlPassword();

    // PGPASSWORD=…, "password": "…", password: …, Pwd=…;, ?token=…, api_key=…, SECRET_KEY=…. A bare
    // "pass" only with "=", so test output such as "--- PASS: TestName" stays readable.
    [GeneratedRegex(
        @"((pass(word|wd|phrase)|pwd|secret|token|(api|access|secret|private|client|signing|encryption|master)[-_]?key)[""']?[ \t]*[=:]|pass[""']?[ \t]*=)[ \t]*" +
        @"(""([^""\\\r\n]|\\.)*|'[^'\r\n]*|[^\s""',;&]+)",
        LinearAnyCase)]
    private static partial Regex KeyValue();

    // This service's tokens (runs_ + 43), Standard Webhooks secrets, GitHub and Slack tokens.
    [GeneratedRegex(@"\b(runs_[A-Za-z0-9_-]{43}|whsec_[A-Za-z0-9+/]{32,}={0,2}|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}|xox[abprs]-[A-Za-z0-9-]{10,})", Linear)]
    private static partial Regex KnownToken();

    [GeneratedRegex(@"\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b", Linear)]
    private static partial Regex AwsAccessKey();
}

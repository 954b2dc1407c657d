using System.Text.RegularExpressions;

namespace Runs.Domain;

/// <summary>
/// Replaces credentials with <c>[REDACTED]</c> before text is stored: the run's secret env values and
/// common credential shapes (bearer tokens, passwords in URLs and connection strings, AWS-style keys).
/// </summary>
public sealed partial class Scrubber
{
    public const string Redacted = "[REDACTED]";

    // Very short secrets would redact ordinary words; they are still encrypted at rest, just not scrubbed.
    public const int MinimumSecretLength = 4;

    private readonly string[] _secrets;

    public Scrubber(IEnumerable<string> secretValues) =>
        _secrets = [.. secretValues.Where(s => s.Length >= MinimumSecretLength).Distinct().OrderByDescending(s => s.Length)];

    public static readonly Scrubber Patterns = new([]);

    public string Scrub(string text)
    {
        foreach (var secret in _secrets)
        {
            text = text.Replace(secret, Redacted, StringComparison.Ordinal);
        }
        text = Bearer().Replace(text, "$1" + Redacted);
        text = UrlPassword().Replace(text, "$1" + Redacted + "@");
        text = ConnectionStringPassword().Replace(text, "$1" + Redacted);
        text = AwsAccessKey().Replace(text, Redacted);
        text = AwsSecretKey().Replace(text, "$1" + Redacted);
        return text;
    }

    [GeneratedRegex(@"(\b[Bb]earer\s+)[A-Za-z0-9\-._~+/]+=*")]
    private static partial Regex Bearer();

    [GeneratedRegex(@"(\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]+:)[^\s@/]+@")]
    private static partial Regex UrlPassword();

    [GeneratedRegex(@"(\b(?:[Pp]assword|[Pp]wd)\s*=\s*)(?:""[^""]*""|'[^']*'|[^;\s]+)")]
    private static partial Regex ConnectionStringPassword();

    [GeneratedRegex(@"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b")]
    private static partial Regex AwsAccessKey();

    [GeneratedRegex(@"(\b[Aa][Ww][Ss]_?[Ss][Ee][Cc][Rr][Ee][Tt]_?[Aa][Cc][Cc][Ee][Ss][Ss]_?[Kk][Ee][Yy]\s*[=:]\s*)[A-Za-z0-9/+=]{40}")]
    private static partial Regex AwsSecretKey();
}

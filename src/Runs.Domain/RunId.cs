using System.Text.RegularExpressions;

namespace Runs.Domain;

/// <summary>
/// Run ids sort by trigger time: <c>YYYYMMDD-HHMMSS-&lt;16 lowercase hex&gt;</c>. The hex part starts with the
/// millisecond (three digits, 000–3e7) so runs of the same second sort by time too; the other 13 are random.
/// </summary>
public static partial class RunId
{
    public static string New(DateTimeOffset triggeredAt)
    {
        Span<byte> random = stackalloc byte[7];
        RandomNumberGenerator.Fill(random);
        var utc = triggeredAt.UtcDateTime;
        return $"{utc:yyyyMMdd-HHmmss}-{utc.Millisecond:x3}{Convert.ToHexStringLower(random)[..13]}";
    }

    public static bool IsValid(string? id) => id is not null && Shape().IsMatch(id);

    // \z, not $: "$" also matches before a final newline, and route values arrive percent-decoded.
    [GeneratedRegex(@"^[0-9]{8}-[0-9]{6}-[0-9a-f]{16}\z")]
    private static partial Regex Shape();
}

public static partial class JobName
{
    public const string Rule = "a slug: [a-z0-9][a-z0-9_.-]{0,99}";

    public static bool IsValid(string? job) => job is not null && Shape().IsMatch(job);

    [GeneratedRegex(@"^[a-z0-9][a-z0-9_.-]{0,99}\z")]
    private static partial Regex Shape();
}


namespace Runs.Host.Runs;

/// <summary>
/// Known summary keys have meanings: <c>progress</c> is 0–100, <c>rows</c> and <c>bytes</c> are not negative.
/// How many keys and bytes a summary may hold is the run's to say, once merged (<see cref="Domain.TelemetryLimits"/>).
/// </summary>
public sealed class TelemetrySummaryRules : AbstractValidator<Dictionary<string, JsonElement>>
{
    public TelemetrySummaryRules()
    {
        RuleFor(x => x).Must(s => s.Values.All(v => v.ValueKind != JsonValueKind.Number || double.IsFinite(v.GetDouble())))
            .OverridePropertyName("numbers").WithMessage("Numbers must fit a double (no 1e400).");
        RuleFor(x => x).Must(s => !s.TryGetValue("progress", out var p) || (p.ValueKind == JsonValueKind.Number && p.GetDouble() is >= 0 and <= 100))
            .OverridePropertyName("progress").WithMessage("'progress' must be a number from 0 to 100.");
        RuleFor(x => x).Must(s => NonNegative(s, "rows")).OverridePropertyName("rows")
            .WithMessage("'rows' must be a non-negative number.");
        RuleFor(x => x).Must(s => NonNegative(s, "bytes")).OverridePropertyName("bytes")
            .WithMessage("'bytes' must be a non-negative number.");
        RuleFor(x => x.Keys).Must(keys => keys.All(k => k.Length is > 0 and <= 100)).OverridePropertyName("keys")
            .WithMessage("Telemetry summary keys must be 1–100 characters.");
    }

    private static bool NonNegative(Dictionary<string, JsonElement> summary, string key) =>
        !summary.TryGetValue(key, out var value) || (value.ValueKind == JsonValueKind.Number && value.GetDouble() >= 0);
}

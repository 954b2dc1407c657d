using Runs.Host.Runs.Finishing;
using Runs.Host.Runs.Patching;
using Runs.Host.Runs.Telemetry;

namespace Runs.Host.Http;

/// <summary>
/// The limits a client meets in the free-form JSON it sends, written on the request bodies' properties in
/// the OpenAPI document with the values this instance is configured with.
/// </summary>
public static class OpenApiLimits
{
    public static void Describe(OpenApiOptions options) =>
        options.AddSchemaTransformer((schema, context, _) =>
        {
            if (context.JsonPropertyInfo is { } property
                && Description(property.DeclaringType, property.Name, context.ApplicationServices.GetRequiredService<IOptions<RunsOptions>>().Value) is { } text)
            {
                schema.Description = text;
            }
            return Task.CompletedTask;
        });

    private static string? Description(Type type, string property, RunsOptions options)
    {
        var (limits, telemetry) = (options.Limits, options.Telemetry);
        var numbers = $"numbers within PostgreSQL's numeric range ({StoredJson.MaxDigitsBeforePoint} digits before the decimal point, {StoredJson.MaxDigitsAfterPoint} after)";
        var summary = $"Shallow-merged into the run's telemetry_summary, which may hold at most {telemetry.MaxSummaryKeys} keys and "
            + $"{telemetry.MaxSummaryBytes} bytes of compact JSON once merged (400 past either); values nested at most {limits.MaxJsonDepth} levels; {numbers}.";
        var samples = $"An optional RFC 3339 'at' and at most 50 numeric fields each; a run's samples may use at most {telemetry.MaxFieldsPerRun} "
            + $"distinct field names (400 for samples naming more); {numbers}.";
        return (type.Name, property) switch
        {
            (nameof(TriggerRun), "input") =>
                $"Any JSON, stored as sent: at most {limits.MaxInputBytes} bytes of compact JSON and nested at most {limits.MaxJsonDepth} levels "
                + $"(400 past either; larger inputs belong in input files, multipart); {numbers}.",
            (nameof(RecordTelemetryRequest), "summary") or (nameof(PatchRunRequest) or nameof(SucceedRunRequest), "telemetry_summary") => summary,
            (nameof(RecordTelemetryRequest), "samples") or (nameof(PatchRunRequest), "append_telemetry_sample") => samples,
            _ => null,
        };
    }
}

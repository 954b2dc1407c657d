using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Runs.Host.Operations;

/// <summary>
/// OpenTelemetry traces over OTLP, on only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set: the HTTP request,
/// its SQL (Npgsql, Marten), the outbox and Wolverine's handling of the messages it sent (a webhook
/// delivery, with the delivery's own HTTP call) are one trace, because Wolverine carries the trace context
/// in each message. The exporter reads the other standard <c>OTEL_*</c> settings itself.
/// </summary>
public static class Tracing
{
    public const string EndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string DefaultServiceName = "runs";

    /// <summary>The sources traced besides ASP.NET Core and outgoing HTTP.</summary>
    public static readonly string[] Sources = ["Wolverine", "Marten"];

    public static bool IsOn(IConfiguration configuration) => !string.IsNullOrWhiteSpace(configuration[EndpointSetting]);

    public static OpenTelemetryBuilder WithRunsTracing(this OpenTelemetryBuilder otel, IConfiguration configuration)
    {
        if (!IsOn(configuration))
        {
            return otel;
        }
        return otel
            .ConfigureResource(resource => resource.AddService(configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : DefaultServiceName))
            .WithTracing(tracing => tracing
                .SetSampler(new ParentBasedSampler(new RequestsAndMessages()))
                // Probes and scrapes would be most of the traces and say nothing.
                .AddAspNetCoreInstrumentation(http => http.Filter = context => !context.Request.Path.StartsWithSegments("/health")
                    && !context.Request.Path.StartsWithSegments("/metrics"))
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddSource(Sources)
                .AddOtlpExporter());
    }
}

/// <summary>
/// Keeps the traces that begin with a request or a message and drops those that would begin with a bare
/// database call: the heartbeats, recovery passes and change-feed reads every host makes each second would
/// otherwise be a steady stream of one-span traces.
/// </summary>
public sealed class RequestsAndMessages : Sampler
{
    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        new(samplingParameters.Kind == ActivityKind.Client ? SamplingDecision.Drop : SamplingDecision.RecordAndSample);
}

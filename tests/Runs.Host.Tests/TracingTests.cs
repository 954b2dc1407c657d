
namespace Runs.Host.Tests;

/// <summary>
/// One trace from the HTTP write through the outbox to the webhook delivery attempt, seen by an in-process
/// listener on the sources the host's OTLP exporter subscribes to; the events' correlation id is that trace.
/// </summary>
[Collection(WebhooksCollection.Name)]
public sealed class TracingTests(WebhooksHost fixture) : HostSpecification<WebhooksHost>(fixture, "tracer", [Scopes.RunsRead, Scopes.RunsWrite, Scopes.WebhooksManage])
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static readonly string[] Sources = ["Microsoft.AspNetCore", "System.Net.Http", "Npgsql", .. Operations.Tracing.Sources];

    private readonly ConcurrentQueue<Activity> _finished = new();
    private ActivityListener _listener = null!;
    private Receiver _receiver = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _receiver = await Receiver.StartAsync();
        _listener = new ActivityListener
        {
            ShouldListenTo = source => Sources.Contains(source.Name),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.TraceId.ToHexString() == TraceId)
                {
                    _finished.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public override async Task DisposeAsync()
    {
        _listener.Dispose();
        await _receiver.DisposeAsync();
        await base.DisposeAsync();
    }

    [Fact]
    public async Task A_terminal_write_and_its_webhook_delivery_are_one_trace_and_its_events_carry_the_trace_id()
    {
        await Api.Scenario(s =>
        {
            s.Post.Json(new { url = _receiver.Url, events = new[] { "run.succeeded" } }).ToUrl("/v1/webhooks");
            s.Bearer(Token);
            s.StatusCodeShouldBe(201);
        });
        var run = await Api.TriggerAsync(Token, job: "traced");
        await Api.CommandAsync(Token, run, "start");
        var succeeded = await Api.Scenario(s =>
        {
            s.Post.Json(new { exit_code = 0 }).ToUrl($"{run["uri"]}/succeed");
            s.WithRequestHeader("traceparent", $"00-{TraceId}-00f067aa0ba902b7-01");
            s.Bearer(Token);
        });
        Assert.Equal(TraceId, succeeded.Context.Response.Headers["X-Correlation-Id"].ToString());
        Assert.Single(await _receiver.WaitForAsync(1));

        // The delivery's span ends after the receiver answered; wait for it (bounded) rather than for a time.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!_finished.Any(IsDelivery) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        var spans = _finished.ToList();
        Assert.Contains(spans, a => a.Source.Name == "Microsoft.AspNetCore" && a.Kind == ActivityKind.Server);
        Assert.Contains(spans, a => a.Source.Name == "Npgsql");
        Assert.Contains(spans, a => a.Source.Name == "Wolverine" && a.Kind == ActivityKind.Producer && IsDeliverWebhook(a));
        var delivery = Assert.Single(spans, IsDelivery);
        Assert.Contains(spans, a => a.Source.Name == "System.Net.Http" && a.Kind == ActivityKind.Client
            && a.GetTagItem("url.full") is string url && url.StartsWith(_receiver.Url, StringComparison.Ordinal));

        var events = await (await Api.Scenario(s =>
        {
            s.Get.Url($"{run["uri"]}/events");
            s.Bearer(Token);
        })).Json();
        var ended = events["events"]!.AsArray().Single(e => (string)e!["type"]! == "Succeeded")!;
        Assert.Equal(TraceId, (string)ended["metadata"]!["correlation_id"]!);
        Assert.Equal(TraceId, delivery.TraceId.ToHexString());
    }

    /// <summary>Wolverine's span for handling the delivery message (the outbox's own is the producer span).</summary>
    private static bool IsDelivery(Activity activity) =>
        activity.Source.Name == "Wolverine" && activity.Kind == ActivityKind.Internal && IsDeliverWebhook(activity);

    private static bool IsDeliverWebhook(Activity activity) =>
        activity.GetTagItem("messaging.message_type") is string type && type.Contains("DeliverWebhook", StringComparison.OrdinalIgnoreCase);
}

/// <summary>With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, a write's trace is exported there.</summary>
[Collection(TracingCollection.Name)]
public sealed class OtlpExportTests(TracingHost fixture)
{
    [Fact]
    public async Task A_write_is_exported_over_OTLP_under_the_trace_id_its_events_carry()
    {
        var token = await fixture.TokenAsync("tracer", [Scopes.RunsRead, Scopes.RunsWrite]);
        const string traceId = "5bf92f3577b34da6a3ce929d0e0e4737";
        await fixture.Host.Scenario(s =>
        {
            s.Post.Json(new { }).ToUrl("/v1/jobs/exported/runs");
            s.WithRequestHeader("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");
            s.Bearer(token);
            s.StatusCodeShouldBe(201);
        });

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!fixture.Collector.HasTrace(traceId) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.True(fixture.Collector.HasTrace(traceId), "no span of the request's trace reached the OTLP endpoint");
    }
}

public sealed class SamplingTests
{
    [Theory]
    [InlineData(ActivityKind.Client, false)]
    [InlineData(ActivityKind.Server, true)]
    [InlineData(ActivityKind.Internal, true)]
    [InlineData(ActivityKind.Consumer, true)]
    public void A_trace_is_kept_unless_it_would_begin_with_a_bare_outgoing_call(ActivityKind kind, bool kept)
    {
        var root = new OpenTelemetry.Trace.ParentBasedSampler(new Operations.RequestsAndMessages());
        var decision = root.ShouldSample(new OpenTelemetry.Trace.SamplingParameters(default, ActivityTraceId.CreateRandom(), "postgresql", kind)).Decision;
        Assert.Equal(kept, decision == OpenTelemetry.Trace.SamplingDecision.RecordAndSample);
    }

    [Fact]
    public void A_database_call_inside_a_sampled_request_is_kept()
    {
        var sampler = new OpenTelemetry.Trace.ParentBasedSampler(new Operations.RequestsAndMessages());
        var parent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        var decision = sampler.ShouldSample(new OpenTelemetry.Trace.SamplingParameters(parent, parent.TraceId, "postgresql", ActivityKind.Client)).Decision;
        Assert.Equal(OpenTelemetry.Trace.SamplingDecision.RecordAndSample, decision);
    }
}

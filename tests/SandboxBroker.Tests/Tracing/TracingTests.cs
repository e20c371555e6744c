using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using SandboxBroker.Api.Workers.Sync;
using SandboxBroker.Testing;
using SandboxBroker.Tests.Infrastructure;
using SandboxBroker.Tests.Observability;
using SandboxBroker.Tests.Workers;
using Serilog.Core;

namespace SandboxBroker.Tests.Tracing;

/// <summary>
/// Traces over real OTLP/HTTP to a receiver on 127.0.0.1: a live broker (CSP over HTTP to a fake) syncs and allocates;
/// the request's server span, its store spans and the CSP call's client span arrive, and the request's log line
/// carries the same trace id. Without an endpoint nothing is exported, and log lines still carry a trace id.
/// </summary>
public sealed class TracingTests
{
    [Fact]
    public async Task An_allocation_exports_a_server_span_with_store_spans_and_the_sync_an_outgoing_http_span()
    {
        using var receiver = new OtlpReceiver();
        await using var csp = await FakeCspServer.StartAsync(2);
        var sink = new CapturingLogSink();
        await using var broker = LiveBrokerTests.LiveBroker(csp)
            .With("Logging:MinimumLevel", "Information")
            .With("Telemetry:OtlpEndpoint", receiver.BaseAddress.ToString())
            .With("Telemetry:OtlpProtocol", "HttpProtobuf")
            .WithServices(s => s.AddSingleton<ILogEventSink>(sink));
        using var admin = broker.AdminClient();
        using var track = broker.TrackClient();

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync(new Uri("/v1/admin/sync", UriKind.Relative), null)).StatusCode);
        using var allocate = new HttpRequestMessage(HttpMethod.Post, "/v1/allocate") { Headers = { { "X-Instruqt-Sandbox-ID", "traced-1" } } };
        using var allocated = await track.SendAsync(allocate);
        Assert.Equal(HttpStatusCode.Created, allocated.StatusCode);
        var requestId = allocated.Headers.GetValues("X-Request-ID").Single();
        var line = await sink.WaitForAsync(e => Field(e, "request_id") == requestId && Field(e, "action") is not null, "the allocation");

        // The batch exporter sends on a flush; a failed send is retried, so wait for the allocation's span to arrive.
        Assert.True(broker.Get<TracerProvider>().ForceFlush(10_000));
        for (var i = 0; i < 100 && !receiver.Spans.Any(s => s.Name == "POST /v1/allocate"); i++)
        {
            await Task.Delay(100);
        }

        var spans = receiver.Spans;
        Assert.True(spans.Count > 0, $"{receiver.Requests} export requests, no spans");

        // The allocation's server span is the one in the trace its log line names. A tracer provider listens to the
        // ASP.NET Core activity source process-wide, so an allocation another test's in-memory broker serves at the
        // same moment is exported here too (a CI run saw two POST /v1/allocate server spans).
        var traceId = Field(line, "trace_id");
        Assert.Matches("^[0-9a-f]{32}$", traceId);
        var server = Assert.Single(spans, s => s.Kind == ReceivedSpan.Server && s.Name == "POST /v1/allocate" && s.TraceId == traceId);
        Assert.Contains(spans, s => s.Name == "store RunAllocation" && s.TraceId == server.TraceId && s.ParentSpanId == server.SpanId);

        Assert.Contains(spans, s => s.Kind == ReceivedSpan.Server && s.Name.StartsWith("POST /v1/admin/sync", StringComparison.Ordinal));
        Assert.Contains(spans, s => s.Kind == ReceivedSpan.Client && s.Name == "GET");      // the sync's CSP listing over HTTP
        Assert.Contains(spans, s => s.Name == "store UpsertFromUpstream");
        Assert.DoesNotContain(spans, s => s.Name.Contains("healthz", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_an_endpoint_nothing_is_exported_and_log_lines_still_carry_the_request_trace_id()
    {
        var sink = new CapturingLogSink();
        await using var broker = new BrokerFactory()
            .With("Logging:MinimumLevel", "Information")
            .With("Csp:Simulated:PoolSize", "1")
            .WithServices(s => s.AddSingleton<ILogEventSink>(sink));
        using var track = broker.TrackClient();
        await broker.Get<SyncService>().RunOnceAsync(default);   // the simulated pool's one sandbox

        using var allocate = new HttpRequestMessage(HttpMethod.Post, "/v1/allocate") { Headers = { { "X-Instruqt-Sandbox-ID", "untraced-1" } } };
        using var response = await track.SendAsync(allocate);
        var requestId = response.Headers.GetValues("X-Request-ID").Single();
        var line = await sink.WaitForAsync(e => Field(e, "request_id") == requestId && Field(e, "action") is not null, "the allocation");

        Assert.Null(broker.Services.GetService<TracerProvider>());
        Assert.Matches("^[0-9a-f]{32}$", Field(line, "trace_id"));
        Assert.Matches("^[0-9a-f]{16}$", Field(line, "span_id"));
        // Lines written inside the request (not only the request line) carry the same trace id.
        Assert.Contains(sink.Events, e => Field(e, "action") == "transition" && Field(e, "trace_id") == Field(line, "trace_id"));
    }

    private static string? Field(JsonElement e, string name) =>
        e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

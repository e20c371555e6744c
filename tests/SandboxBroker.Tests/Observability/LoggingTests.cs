using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Workers.Sync;
using SandboxBroker.Tests.Infrastructure;
using Serilog.Core;
using Serilog.Events;
using Serilog.Parsing;

namespace SandboxBroker.Tests.Observability;

/// <summary>Serilog JSON lines: one object per line, request fields, no secrets.</summary>
public sealed class LoggingTests : IAsyncLifetime
{
    private const string BogusToken = "not-a-real-token-but-a-secret-nonetheless-42";
    private readonly CapturingLogSink sink = new();
    private readonly BrokerFactory broker;

    public LoggingTests()
    {
        broker = new BrokerFactory()
            .With("Logging:MinimumLevel", "Information")
            .With("Csp:Simulated:PoolSize", "1")
            .WithServices(s => s.AddSingleton<ILogEventSink>(sink));
    }

    public async Task InitializeAsync() => await broker.Get<SyncService>().RunOnceAsync(default);

    public async Task DisposeAsync() => await broker.DisposeAsync();

    [Fact]
    public async Task Every_line_is_one_json_object_and_request_lines_carry_the_response_request_id()
    {
        using var client = broker.TrackClient();

        using var allocated = await SendAsync(client, HttpMethod.Post, "/v1/allocate", "log-1");
        Assert.Equal(HttpStatusCode.Created, allocated.StatusCode);
        var allocateId = RequestId(allocated);
        var sandboxId = (await allocated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sandbox_id").GetString()!;

        using var got = await SendAsync(client, HttpMethod.Get, $"/v1/sandboxes/{sandboxId}", "log-1", ("X-Instruqt-Track-ID", "lab-7"));
        var getId = RequestId(got);
        using var empty = await SendAsync(client, HttpMethod.Post, "/v1/allocate", "log-2");
        Assert.Equal(HttpStatusCode.Conflict, empty.StatusCode);
        var emptyId = RequestId(empty);

        // The caller's own X-Request-ID is kept and logged.
        using var own = await SendAsync(client, HttpMethod.Get, "/no-such-path", "log-1", ("X-Request-ID", "caller-chosen-id.42"));
        Assert.Equal("caller-chosen-id.42", RequestId(own));

        var line = await sink.WaitForAsync(e => Field(e, "request_id") == allocateId && e.TryGetProperty("status_code", out _), "allocate");
        Assert.Equal("INFO", Field(line, "level"));
        Assert.Equal("POST /v1/allocate", Field(line, "action"));
        Assert.Equal("success", Field(line, "outcome"));
        Assert.Equal("log-1", Field(line, "track_id"));
        Assert.Equal(JsonValueKind.Number, line.GetProperty("latency_ms").ValueKind);
        Assert.Equal(201, line.GetProperty("status_code").GetInt32());
        foreach (var duplicate in new[] { "RequestMethod", "StatusCode", "Elapsed" })
        {
            // Serilog's own request fields would repeat action, status_code and latency_ms.
            Assert.False(line.TryGetProperty(duplicate, out _), duplicate);
        }

        var get = await sink.WaitForAsync(e => Field(e, "request_id") == getId && Field(e, "action") is not null, "get");
        Assert.Equal(sandboxId, Field(get, "sandbox_id"));
        Assert.Equal("lab-7", Field(get, "instruqt_track_id"));

        // An empty pool is a warning, not an error (request line and the domain's own line).
        var conflict = await sink.WaitForAsync(e => Field(e, "request_id") == emptyId && Field(e, "action") is not null, "409");
        Assert.Equal("WARNING", Field(conflict, "level"));
        Assert.Equal("rejected", Field(conflict, "outcome"));
        Assert.DoesNotContain(sink.Events, e => Field(e, "request_id") == emptyId && Field(e, "level") is "ERROR" or "CRITICAL");

        await sink.WaitForAsync(e => Field(e, "request_id") == "caller-chosen-id.42", "caller's request id");

        foreach (var text in sink.Lines)
        {
            using var parsed = JsonDocument.Parse(text);
            Assert.Equal(JsonValueKind.Object, parsed.RootElement.ValueKind);
            foreach (var required in new[] { "timestamp", "level", "message" })
            {
                Assert.True(parsed.RootElement.TryGetProperty(required, out _), $"no {required} in {text}");
            }

            // Kestrel's own connection-based id would be a second, different request id.
            Assert.False(parsed.RootElement.TryGetProperty("RequestId", out _), text);
        }

        Assert.EndsWith("\n", sink.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tokens_never_reach_the_logs()
    {
        using (var track = broker.TrackClient())
        {
            (await SendAsync(track, HttpMethod.Post, "/v1/allocate", "secret-check")).Dispose();
            (await SendAsync(track, HttpMethod.Get, "/v1/admin/stats", "secret-check")).Dispose();   // 403
        }

        using (var admin = broker.AdminClient())
        {
            (await admin.GetAsync(new Uri("/v1/admin/stats", UriKind.Relative))).Dispose();
        }

        using (var bogus = broker.AnonymousClient())
        {
            bogus.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", BogusToken);
            using var rejected = await bogus.GetAsync(new Uri("/v1/admin/stats", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Unauthorized, rejected.StatusCode);
            var id = RequestId(rejected);
            await sink.WaitForAsync(e => Field(e, "request_id") == id && Field(e, "action") is not null, "401");
        }

        Assert.NotEmpty(sink.Lines);
        Assert.DoesNotContain(BrokerFactory.TrackToken, sink.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(BrokerFactory.AdminToken, sink.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(BogusToken, sink.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_reuses_the_loggers_of_its_categories()
    {
        var factory = broker.Get<Microsoft.Extensions.Logging.ILoggerFactory>();
        var category = typeof(SandboxBroker.Api.Http.TokenAuthenticationHandler).FullName!;
        var before = factory.CreateLogger(category);

        // The authentication handler is built for every request and asks the factory for its logger each time.
        using var client = broker.TrackClient();
        (await SendAsync(client, HttpMethod.Post, "/v1/allocate", "logger-reuse")).Dispose();

        Assert.Same(before, factory.CreateLogger(category));
    }

    [Fact]
    public void The_formatter_keeps_one_event_on_one_line_with_plain_string_values_in_the_message()
    {
        var template = new MessageTemplateParser().Parse("Deleting {sandbox_id} failed: {reason} after {attempts} attempts");
        var logEvent = new LogEvent(
            DateTimeOffset.Parse("2026-01-02T03:04:05.678Z", System.Globalization.CultureInfo.InvariantCulture),
            LogEventLevel.Error,
            new InvalidOperationException("line one\nline two \"quoted\""),
            template,
            [
                new LogEventProperty("sandbox_id", new ScalarValue("9000001")),
                new LogEventProperty("reason", new ScalarValue("CSP said:\n\"no\"")),
                new LogEventProperty("attempts", new ScalarValue(3)),
                new LogEventProperty("SourceContext", new ScalarValue("SandboxBroker.Api.Workers.Cleanup")),
                new LogEventProperty("RequestId", new ScalarValue("0HN:00000001")),
            ]);
        using var writer = new StringWriter();
        BrokerLogFormat.Create().Format(logEvent, writer);
        var text = writer.ToString();

        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', text.TrimEnd('\n'));
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        Assert.Equal("2026-01-02T03:04:05.678Z", root.GetProperty("timestamp").GetString());
        Assert.Equal("ERROR", root.GetProperty("level").GetString());
        Assert.Equal("SandboxBroker.Api.Workers.Cleanup", root.GetProperty("logger").GetString());
        Assert.Equal("Deleting 9000001 failed: CSP said:\n\"no\" after 3 attempts", root.GetProperty("message").GetString());
        Assert.Equal("9000001", root.GetProperty("sandbox_id").GetString());
        Assert.Equal(3, root.GetProperty("attempts").GetInt32());
        Assert.Contains("line two", root.GetProperty("exception").GetString(), StringComparison.Ordinal);
        Assert.False(root.TryGetProperty("RequestId", out _));
    }

    private static Task<HttpResponseMessage> SendAsync(
        HttpClient client, HttpMethod method, string path, string requester, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        request.Headers.Add("X-Instruqt-Sandbox-ID", requester);
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        return client.SendAsync(request);
    }

    private static string RequestId(HttpResponseMessage response) => response.Headers.GetValues("X-Request-ID").Single();

    private static string? Field(JsonElement e, string name) =>
        e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

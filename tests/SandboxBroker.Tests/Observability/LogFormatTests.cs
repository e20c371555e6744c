using System.Diagnostics;
using System.Globalization;
using SandboxBroker.Api.Observability;
using Serilog.Events;
using Serilog.Parsing;
using Serilog.Templates;

namespace SandboxBroker.Tests.Observability;

/// <summary>
/// The hand-written line format against the Serilog.Expressions template it replaced: the same bytes for every kind of
/// value, token and level the broker's events carry (and the odd ones a future log call might), so CloudWatch filters
/// and the operators' saved queries see no change.
/// </summary>
public sealed class LogFormatTests
{
    private const string ReplacedTemplate =
        "{#if false}{RequestId}{timestamp}{level}{logger}{message}{exception}{#end}"
        + "{ {timestamp: ToString(UtcDateTime(@t), 'yyyy-MM-ddTHH:mm:ss.fffZ'), "
        + "level: if @l = 'Information' then 'INFO' else if @l = 'Warning' then 'WARNING' else if @l = 'Error' then 'ERROR' "
        + "else if @l = 'Fatal' then 'CRITICAL' else 'DEBUG', "
        + "logger: SourceContext, message: @m, trace_id: @tr, span_id: @sp, ..rest(), exception: ToString(@x)} }\n";

    private static readonly ActivityTraceId Trace = ActivityTraceId.CreateFromString("0af7651916cd43dd8448eb211c80319c");
    private static readonly ActivitySpanId Span = ActivitySpanId.CreateFromString("b7ad6b7169203331");

    public static TheoryData<string> Cases() => [.. Events.Keys];

    private static readonly Dictionary<string, Func<LogEvent>> Events = new()
    {
        ["request line"] = () => Event(
            LogEventLevel.Information, "{action:l} - {status_code} in {latency_ms} ms", null, withTrace: true,
            ("action", "POST /v1/allocate"), ("status_code", 201), ("latency_ms", 3.45), ("client_ip", "127.0.0.1"),
            ("outcome", "success"), ("track_id", "lab-7"), ("request_id", "0af76519-1"), ("RequestId", "0HN:00000001"),
            ("SourceContext", "Serilog.AspNetCore.RequestLoggingMiddleware")),
        ["request line without a client address or trace"] = () => Event(
            LogEventLevel.Warning, "{action:l} - {status_code} in {latency_ms} ms", null, withTrace: false,
            ("action", "POST /v1/allocate"), ("status_code", 409), ("latency_ms", 0.1 + 0.2), ("client_ip", null),
            ("outcome", "rejected")),
        ["every scalar kind"] = () => Event(
            LogEventLevel.Debug,
            "b={b} l={l} m={m} d={d:0.00} f={f} t={t} o={o} g={g} e={e} n={n} c={c} u={u} missing={missing} {{literal}}",
            null, withTrace: true,
            ("b", true), ("l", 9_000_000_001L), ("m", 12.50m), ("d", 2.0 / 3), ("f", 1.5f), ("t", TimeSpan.FromSeconds(90.25)),
            ("o", DateTimeOffset.Parse("2026-01-02T03:04:05.678+01:00", CultureInfo.InvariantCulture)),
            ("g", Guid.Parse("6f9619ff-8b86-d011-b42d-00cf4fc964ff")), ("e", DayOfWeek.Friday), ("n", null), ("c", 'x'),
            ("u", new Uri("https://csp.example/api"))),
        ["strings that need escaping"] = () => Event(
            LogEventLevel.Error, "CSP said {reason} for {sandbox_id}", null, withTrace: false,
            ("reason", "line one\nline two\t\"quoted\" back\\slash \u0001 é ✓ </script>"), ("sandbox_id", "9000001"),
            ("SourceContext", "SandboxBroker.Api.Workers.Cleanup")),
        ["aligned and positional tokens"] = () => Event(
            LogEventLevel.Information, "[{left,-6}] [{right,6}] [{wide,2}] {0} {1:x}", null, withTrace: false,
            ("left", "ab"), ("right", 42), ("wide", "longer"), ("0", "first"), ("1", 255)),
        ["structures, sequences and dictionaries"] = () => Event(
            LogEventLevel.Information, "got {seq} and {obj} and {dict}", null, withTrace: true,
            [
                new LogEventProperty("seq", new SequenceValue([new ScalarValue(1), new ScalarValue("two"), new ScalarValue(null)])),
                new LogEventProperty("obj", new StructureValue(
                    [new LogEventProperty("Id", new ScalarValue(7)), new LogEventProperty("Name", new ScalarValue("n\"x"))], "Sandbox")),
                new LogEventProperty("dict", new DictionaryValue(
                    [new KeyValuePair<ScalarValue, LogEventPropertyValue>(new ScalarValue("k"), new ScalarValue(false))])),
                new LogEventProperty("plain", new StructureValue([new LogEventProperty("a", new ScalarValue(1.0))])),
            ]),
        ["properties named like the fixed fields"] = () => Event(
            LogEventLevel.Information, "{trace_id} {level}", null, withTrace: true,
            ("trace_id", "mine"), ("level", "not a level"), ("timestamp", "no"), ("logger", "no"), ("message", "no"),
            ("exception", "no"), ("span_id", 5)),
        ["an exception, no properties"] = () => Event(
            LogEventLevel.Fatal, "The host stopped", new InvalidOperationException("line one\nline two \"quoted\""), withTrace: false),
        ["verbose, empty message"] = () => Event(LogEventLevel.Verbose, "", null, withTrace: false, ("x", 1)),
        ["null logger"] = () => Event(LogEventLevel.Information, "text only", null, withTrace: false, ("SourceContext", null)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_formatter_writes_what_the_expression_template_wrote(string name)
    {
        var logEvent = Events[name]();
        using var expected = new StringWriter(CultureInfo.InvariantCulture);
        new ExpressionTemplate(ReplacedTemplate, CultureInfo.InvariantCulture).Format(logEvent, expected);
        using var actual = new StringWriter(CultureInfo.InvariantCulture);
        BrokerLogFormat.Create().Format(logEvent, actual);

        Assert.Equal(expected.ToString(), actual.ToString());
    }

    private static LogEvent Event(
        LogEventLevel level, string template, Exception? exception, bool withTrace, params (string Name, object? Value)[] properties) =>
        Event(level, template, exception, withTrace, [.. properties.Select(p => new LogEventProperty(p.Name, new ScalarValue(p.Value)))]);

    private static LogEvent Event(
        LogEventLevel level, string template, Exception? exception, bool withTrace, IEnumerable<LogEventProperty> properties) =>
        new(
            DateTimeOffset.Parse("2026-01-02T03:04:05.6789+02:00", CultureInfo.InvariantCulture),
            level,
            exception,
            new MessageTemplateParser().Parse(template),
            properties,
            withTrace ? Trace : default,
            withTrace ? Span : default);
}

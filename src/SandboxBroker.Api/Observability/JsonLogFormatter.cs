using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Json;

namespace SandboxBroker.Api.Observability;

/// <summary>
/// One JSON object per line with the original broker's field names (timestamp, level as INFO/WARNING/ERROR,
/// logger, message) so its CloudWatch metric filters ($.level = "ERROR", $.latency_ms > 1000) keep working;
/// every log property (request_id, track_id, sandbox_id, action, outcome, latency_ms, ...) is a top-level field.
/// </summary>
internal sealed class JsonLogFormatter : ITextFormatter
{
    private static readonly JsonValueFormatter ValueFormatter = new(typeTagName: null);

    public void Format(LogEvent logEvent, TextWriter output)
    {
        output.Write("{\"timestamp\":\"");
        output.Write(logEvent.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
        output.Write("\",\"level\":\"");
        output.Write(Level(logEvent.Level));
        output.Write('"');
        if (logEvent.Properties.TryGetValue("SourceContext", out var source) && source is ScalarValue { Value: string logger })
        {
            output.Write(",\"logger\":");
            JsonValueFormatter.WriteQuotedJsonString(logger, output);
        }

        output.Write(",\"message\":");
        JsonValueFormatter.WriteQuotedJsonString(logEvent.RenderMessage(System.Globalization.CultureInfo.InvariantCulture), output);
        foreach (var (name, value) in logEvent.Properties)
        {
            if (name is "SourceContext" or "timestamp" or "level" or "logger" or "message" or "exception")
            {
                continue;
            }

            output.Write(',');
            JsonValueFormatter.WriteQuotedJsonString(name, output);
            output.Write(':');
            ValueFormatter.Format(value, output);
        }

        if (logEvent.Exception is not null)
        {
            output.Write(",\"exception\":");
            JsonValueFormatter.WriteQuotedJsonString(logEvent.Exception.ToString(), output);
        }

        output.Write('}');
        output.Write('\n');
    }

    private static string Level(LogEventLevel level) => level switch
    {
        LogEventLevel.Verbose or LogEventLevel.Debug => "DEBUG",
        LogEventLevel.Information => "INFO",
        LogEventLevel.Warning => "WARNING",
        LogEventLevel.Error => "ERROR",
        _ => "CRITICAL",
    };
}

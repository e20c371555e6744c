using Serilog.Events;
using Serilog.Parsing;
using Serilog.Formatting;
using Serilog.Formatting.Json;

namespace SandboxBroker.Api.Observability;

/// <summary>
/// One JSON object per line with the original broker's field names (timestamp, level as INFO/WARNING/ERROR,
/// logger, message) so its CloudWatch metric filters ($.level = "ERROR", $.latency_ms > 1000) keep working;
/// every log property (request_id, track_id, sandbox_id, action, outcome, latency_ms, ...) is a top-level field.
/// Strings are rendered into the message without quotes (as the original's plain messages, which its text
/// filters match). The hosting scope's RequestId (Kestrel's connection-based id, not the X-Request-ID) is left
/// out, so request_id is the only request id in a line. Newlines are escaped, so one event is always one line.
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
        JsonValueFormatter.WriteQuotedJsonString(RenderMessage(logEvent), output);
        foreach (var (name, value) in logEvent.Properties)
        {
            if (name is "SourceContext" or "RequestId" or "timestamp" or "level" or "logger" or "message" or "exception")
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

    private static string RenderMessage(LogEvent logEvent)
    {
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        using var message = new StringWriter(culture);
        foreach (var token in logEvent.MessageTemplate.Tokens)
        {
            if (token is PropertyToken property && property.Format is null
                && logEvent.Properties.TryGetValue(property.PropertyName, out var value) && value is ScalarValue { Value: string text })
            {
                message.Write(text);
            }
            else
            {
                token.Render(logEvent.Properties, message, culture);
            }
        }

        return message.ToString();
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

using System.Globalization;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Json;
using Serilog.Parsing;

namespace SandboxBroker.Api.Observability;

/// <summary>
/// One JSON object per line with the original broker's field names: timestamp (UTC, milliseconds), level as
/// DEBUG/INFO/WARNING/ERROR/CRITICAL, logger, message, so its CloudWatch metric filters ($.level = "ERROR",
/// $.latency_ms > 1000) keep working. Every log property (request_id, track_id, sandbox_id, action, outcome,
/// latency_ms, ...) is a top-level field; trace_id and span_id when the line was written inside an Activity (a request,
/// or a traced store call); exception last. Strings render into the message without quotes (as the original's plain
/// messages, which its text filters match). JSON escapes newlines, so one event is one line.
/// </summary>
/// <remarks>
/// Written by hand rather than as a Serilog.Expressions template: the template built an ordered dictionary, a structure
/// value and a message string for every line, and at several thousand requests a second the log writer thread was 13 %
/// of the broker's CPU on a 2-core machine. The output is the template's, byte for byte (<c>LogFormatTests</c> compares
/// them).
/// </remarks>
internal sealed class BrokerLogFormat : ITextFormatter
{
    // Fixed fields, and the hosting scope's RequestId (Kestrel's connection-based id, not the X-Request-ID): a property
    // with one of these names never becomes a field, so it never replaces a fixed field and request_id stays the only
    // request id in a line.
    private static readonly HashSet<string> NotFields =
        new(["RequestId", "timestamp", "level", "logger", "message", "exception", "SourceContext"], StringComparer.Ordinal);

    private readonly JsonValueFormatter values = new(typeTagName: "$type");

    public static ITextFormatter Create() => new BrokerLogFormat();

    public void Format(LogEvent logEvent, TextWriter output)
    {
        var properties = logEvent.Properties;
        output.Write("{\"timestamp\":\"");
        WriteTimestamp(logEvent.Timestamp, output);
        output.Write("\",\"level\":\"");
        output.Write(LevelName(logEvent.Level));
        output.Write('"');
        if (properties.TryGetValue("SourceContext", out var logger))
        {
            WriteField("logger", logger, output);
        }

        output.Write(",\"message\":");
        JsonValueFormatter.WriteQuotedJsonString(RenderMessage(logEvent, properties), output);

        // A property of the same name replaces the Activity's id (it is written with the other properties below).
        if (logEvent.TraceId is { } traceId && !properties.ContainsKey("trace_id"))
        {
            output.Write(",\"trace_id\":\"");
            output.Write(traceId.ToHexString());
            output.Write('"');
        }

        if (logEvent.SpanId is { } spanId && !properties.ContainsKey("span_id"))
        {
            output.Write(",\"span_id\":\"");
            output.Write(spanId.ToHexString());
            output.Write('"');
        }

        foreach (var (name, value) in properties)
        {
            if (!NotFields.Contains(name))
            {
                WriteField(name, value, output);
            }
        }

        if (logEvent.Exception is { } exception)
        {
            output.Write(",\"exception\":");
            JsonValueFormatter.WriteQuotedJsonString(exception.ToString(), output);
        }

        output.Write("}\n");
    }

    private void WriteField(string name, LogEventPropertyValue value, TextWriter output)
    {
        output.Write(',');
        JsonValueFormatter.WriteQuotedJsonString(name, output);
        output.Write(':');
        values.Format(value, output);
    }

    private static void WriteTimestamp(DateTimeOffset timestamp, TextWriter output)
    {
        Span<char> text = stackalloc char[24];
        timestamp.UtcDateTime.TryFormat(text, out var written, "yyyy-MM-ddTHH:mm:ss.fff", CultureInfo.InvariantCulture);
        output.Write(text[..written]);
        output.Write('Z');
    }

    private static string LevelName(LogEventLevel level) => level switch
    {
        LogEventLevel.Information => "INFO",
        LogEventLevel.Warning => "WARNING",
        LogEventLevel.Error => "ERROR",
        LogEventLevel.Fatal => "CRITICAL",
        _ => "DEBUG",
    };

    /// <summary>
    /// The message with its properties in place: strings as they are, numbers and other scalars formatted (with the
    /// token's format, if any) in the invariant culture, structures and sequences as JSON, a property the event lacks
    /// as its token text. A message without properties is its template text, with no copy made.
    /// </summary>
    private string RenderMessage(LogEvent logEvent, IReadOnlyDictionary<string, LogEventPropertyValue> properties)
    {
        var template = logEvent.MessageTemplate;
        var tokens = template.Tokens as IReadOnlyList<MessageTemplateToken> ?? [.. template.Tokens];
        if (tokens.Count == 1 && tokens[0] is TextToken only)
        {
            return only.Text;
        }

        using var message = new StringWriter(CultureInfo.InvariantCulture);
        foreach (var token in tokens)
        {
            if (token is not PropertyToken property)
            {
                message.Write(token is TextToken text ? text.Text : token.ToString());
            }
            else if (!properties.TryGetValue(property.PropertyName, out var value))
            {
                message.Write(property.ToString());
            }
            else if (property.Alignment is { } alignment)
            {
                using var unaligned = new StringWriter(CultureInfo.InvariantCulture);
                WriteInMessage(value, property.Format, unaligned);
                var rendered = unaligned.ToString();
                message.Write(alignment.Direction == AlignmentDirection.Left
                    ? rendered.PadRight(alignment.Width)
                    : rendered.PadLeft(alignment.Width));
            }
            else
            {
                WriteInMessage(value, property.Format, message);
            }
        }

        return message.ToString();
    }

    private void WriteInMessage(LogEventPropertyValue value, string? format, TextWriter output)
    {
        switch (value)
        {
            case not ScalarValue:
                values.Format(value, output);
                break;
            case ScalarValue { Value: null }:
                output.Write("null");
                break;
            case ScalarValue { Value: string text }:
                output.Write(text);
                break;
            case ScalarValue { Value: bool flag }:
                output.Write(flag);
                break;
            case ScalarValue { Value: IFormattable formattable }:
                output.Write(formattable.ToString(format, CultureInfo.InvariantCulture));
                break;
            case ScalarValue scalar:
                output.Write(scalar.Value);
                break;
        }
    }
}

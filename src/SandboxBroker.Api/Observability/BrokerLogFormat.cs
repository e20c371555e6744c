using System.Globalization;
using Serilog.Formatting;
using Serilog.Templates;

namespace SandboxBroker.Api.Observability;

/// <summary>
/// One JSON object per line (a Serilog.Expressions template) with the original broker's field names: timestamp (UTC,
/// milliseconds), level as DEBUG/INFO/WARNING/ERROR/CRITICAL, logger, message, so its CloudWatch metric filters
/// ($.level = "ERROR", $.latency_ms > 1000) keep working. Every log property (request_id, track_id, sandbox_id, action,
/// outcome, latency_ms, ...) is a top-level field; trace_id and span_id when the line was written inside an Activity
/// (a request, or a traced store call); exception last. Strings render into the message without quotes (as the
/// original's plain messages, which its text filters match). JSON escapes newlines, so one event is one line.
/// </summary>
internal static class BrokerLogFormat
{
    // The conditional block never writes anything: naming the properties there takes them out of rest(), so a property
    // that shares a fixed field's name never replaces it, and the hosting scope's RequestId (Kestrel's connection-based
    // id, not the X-Request-ID) is left out, so request_id is the only request id in a line.
    private const string Template =
        "{#if false}{RequestId}{timestamp}{level}{logger}{message}{exception}{#end}"
        + "{ {timestamp: ToString(UtcDateTime(@t), 'yyyy-MM-ddTHH:mm:ss.fffZ'), "
        + "level: if @l = 'Information' then 'INFO' else if @l = 'Warning' then 'WARNING' else if @l = 'Error' then 'ERROR' "
        + "else if @l = 'Fatal' then 'CRITICAL' else 'DEBUG', "
        + "logger: SourceContext, message: @m, trace_id: @tr, span_id: @sp, ..rest(), exception: ToString(@x)} }\n";

    public static ITextFormatter Create() => new ExpressionTemplate(Template, CultureInfo.InvariantCulture);
}

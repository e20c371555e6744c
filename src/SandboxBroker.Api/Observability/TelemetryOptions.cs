using OpenTelemetry.Exporter;

namespace SandboxBroker.Api.Observability;

/// <summary>Section "Telemetry": where traces go. Unset endpoint: no traces are exported (log lines still carry trace_id).</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>
    /// The OTLP receiver (the ADOT sidecar: http://localhost:4317 for gRPC, http://localhost:4318 for HTTP); traces are
    /// exported only when set. For HTTP, the base address: /v1/traces is appended.
    /// </summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary>Grpc (port 4317) or HttpProtobuf (port 4318).</summary>
    public OtlpExportProtocol OtlpProtocol { get; set; } = OtlpExportProtocol.Grpc;
}

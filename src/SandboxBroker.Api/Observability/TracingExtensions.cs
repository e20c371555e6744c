using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Observability;

internal static class TracingExtensions
{
    public const string ServiceName = "sandbox-broker";

    /// <summary>
    /// OpenTelemetry traces over OTLP, only when Telemetry:OtlpEndpoint is set: server spans for requests (probes and
    /// /metrics left out), client spans for outgoing HTTP (CSP, NIOSXaaS) and store calls (<see cref="TracingStore"/>).
    /// Without an endpoint nothing is registered: ASP.NET Core still starts an Activity per request (its hosting logger
    /// is enabled), so every log line written inside a request carries trace_id and span_id all the same.
    /// </summary>
    public static IHostApplicationBuilder AddBrokerTracing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelemetryOptions>()
            .BindConfiguration(TelemetryOptions.SectionName)
            .Validate(o => o.OtlpEndpoint is null || (o.OtlpEndpoint.IsAbsoluteUri && o.OtlpEndpoint.Scheme is "http" or "https"),
                "Telemetry:OtlpEndpoint must be an absolute http(s) address, e.g. http://localhost:4317")
            .ValidateOnStart();
        var settings = builder.Configuration.GetSection(TelemetryOptions.SectionName).Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (settings.OtlpEndpoint is not { IsAbsoluteUri: true } endpoint)
        {
            return builder;
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName, serviceVersion: typeof(TracingExtensions).Assembly.GetName().Version?.ToString()))
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsProbe(context.Request.Path))
                .AddHttpClientInstrumentation()
                .AddSource(TracingStore.SourceName)
                .AddOtlpExporter(o =>
                {
                    o.Protocol = settings.OtlpProtocol;
                    // Set in code, the endpoint is used as it is: the HTTP protocol needs the signal's path.
                    o.Endpoint = settings.OtlpProtocol == OtlpExportProtocol.HttpProtobuf && endpoint.AbsolutePath == "/"
                        ? new Uri(endpoint, "v1/traces")
                        : endpoint;
                }));
        return builder;
    }

    /// <summary>The chosen store, wrapped in <see cref="TracingStore"/> when traces are exported.</summary>
    public static ISandboxStore Traced(IServiceProvider services, ISandboxStore store) =>
        services.GetRequiredService<IOptions<TelemetryOptions>>().Value.OtlpEndpoint is null
            ? store
            : new TracingStore(store, services.GetRequiredService<StoreChoice>().Provider);

    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/metrics");
}

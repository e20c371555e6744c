using Prometheus;

namespace SandboxBroker.Api.Observability;

internal static class ObservabilityExtensions
{
    /// <summary>Metrics, probes and the OpenAPI document.</summary>
    public static IHostApplicationBuilder AddObservability(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<BrokerMetrics>();
        builder.Services.AddProbes();
        builder.Services.AddBrokerOpenApi();
        return builder;
    }

    /// <summary>Response headers and metrics that apply to every response, errors included.</summary>
    public static WebApplication UseObservabilityBeforeRouting(this WebApplication app) => app;

    /// <summary>/metrics in Prometheus text format (no auth; kept off the internet by the ALB rules in infra/).</summary>
    public static IEndpointRouteBuilder MapMetricsEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapMetrics("/metrics").ExcludeFromDescription();
        return app;
    }
}

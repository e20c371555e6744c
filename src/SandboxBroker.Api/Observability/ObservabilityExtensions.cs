using Prometheus;
using SandboxBroker.Api.Configuration;
using SandboxBroker.Api.Http;

namespace SandboxBroker.Api.Observability;

internal static class ObservabilityExtensions
{
    /// <summary>Metrics (with the pool gauge refresher), probes, the OpenAPI document and CORS.</summary>
    public static IHostApplicationBuilder AddObservability(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<MetricsOptions>()
            .BindConfiguration(MetricsOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(_ =>
        {
            var registry = Metrics.NewCustomRegistry();
            DotNetStats.Register(registry);   // process_* and dotnet_* beside the broker's own
            return new BrokerMetrics(registry);
        });
        builder.Services.AddSingleton<PoolGaugeRefresher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PoolGaugeRefresher>());
        builder.Services.AddProbes();
        builder.Services.AddBrokerOpenApi();
        builder.Services.AddBrokerCors();
        return builder;
    }

    /// <summary>
    /// Outermost, right after the request id (called from UseEdgeBeforeRouting): security headers on every
    /// response, then the HTTP metrics, both outside the exception handler so they see the final 500.
    /// </summary>
    public static IApplicationBuilder UseObservabilityAtEdge(this WebApplication app)
    {
        app.UseMiddleware<SecurityHeadersMiddleware>(app.Configuration.BasePath() + "/docs");
        app.UseBrokerHttpMetrics();
        return app;
    }

    /// <summary>CORS before routing and authentication, so preflights need no token.</summary>
    public static WebApplication UseObservabilityBeforeRouting(this WebApplication app)
    {
        app.UseCors();
        return app;
    }

    /// <summary>/metrics in Prometheus text format (no auth; kept off the internet by the ALB rules in infra/).</summary>
    public static IEndpointRouteBuilder MapMetricsEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapMetrics("/metrics", app.ServiceProvider.GetRequiredService<BrokerMetrics>().Registry).ExcludeFromDescription();
        return app;
    }
}

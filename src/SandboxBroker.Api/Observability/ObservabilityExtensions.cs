using Prometheus;
using SandboxBroker.Api.Configuration;

namespace SandboxBroker.Api.Observability;

internal static class ObservabilityExtensions
{
    /// <summary>Metrics (with the pool gauge refresher), probes and the OpenAPI document.</summary>
    public static IHostApplicationBuilder AddObservability(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<MetricsOptions>()
            .BindConfiguration(MetricsOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(sp =>
        {
            var registry = Metrics.NewCustomRegistry();
            DotNetStats.Register(registry);   // process_* and dotnet_* beside the broker's own
            var metrics = new BrokerMetrics(registry);
            // The quota's series exist at 0 from start-up for every configured track token name (a small set).
            var tokens = Http.TokenDirectory.Build(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<BrokerOptions>>().Value);
            foreach (var token in tokens.Where(t => t.Role == Http.BrokerRoles.Track))
            {
                metrics.AllocationQuotaExceeded.WithLabels(token.Name);
            }

            return metrics;
        });
        builder.Services.AddSingleton<PoolGaugeRefresher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PoolGaugeRefresher>());
        builder.Services.AddProbes();
        builder.Services.AddBrokerOpenApi();
        return builder;
    }

    /// <summary>/metrics in Prometheus text format (no auth; kept off the internet by the ALB rules in infra/).</summary>
    public static IEndpointRouteBuilder MapMetricsEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapMetrics("/metrics", app.ServiceProvider.GetRequiredService<BrokerMetrics>().Registry).ExcludeFromDescription().AllowAnonymous();
        return app;
    }
}

using Prometheus;
using Prometheus.HttpMetrics;

namespace SandboxBroker.Api.Observability;

/// <summary>
/// prometheus-net's HTTP request metrics in the host's registry, labelled by code, method and endpoint only.
/// endpoint is the route template (/v1/sandboxes/{sandboxId}), never the raw path, so ids never become label
/// values; unmatched paths get "". The edge refuses methods outside the standard set before they reach these
/// metrics, so the method label is a small fixed set too.
/// </summary>
internal static class HttpMetricsExtensions
{
    private static readonly object EndpointKey = new();
    private static readonly string[] RequestLabels = [HttpRequestLabelNames.Code, HttpRequestLabelNames.Method, HttpRequestLabelNames.Endpoint];
    /// <summary>Runs outside the exception handler, so a 500 is counted as the 500 the client gets.</summary>
    public static IApplicationBuilder UseBrokerHttpMetrics(this IApplicationBuilder app)
    {
        var factory = Metrics.WithCustomRegistry(app.ApplicationServices.GetRequiredService<BrokerMetrics>().Registry);
        var endpointLabel = new HttpCustomLabel(HttpRequestLabelNames.Endpoint, RouteTemplate);
        app.UseHttpMetrics(options =>
        {
            options.SetMetricFactory(factory);
            options.RequestCount.Counter = factory.CreateCounter(
                "http_requests_received_total", "HTTP requests by status code, method and route template.", RequestLabels);
            options.RequestCount.CustomLabels = [endpointLabel];
            options.RequestDuration.Histogram = factory.CreateHistogram(
                "http_request_duration_seconds", "HTTP request duration by status code, method and route template.",
                new HistogramConfiguration
                {
                    LabelNames = RequestLabels,
                    Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
                });
            options.RequestDuration.CustomLabels = [endpointLabel];
            options.InProgress.Gauge = factory.CreateGauge(
                "http_requests_in_progress", "HTTP requests being served, by method.", HttpRequestLabelNames.Method);
        });
        return app;
    }

    /// <summary>Remembers the matched endpoint after routing: the exception handler clears it before a 500 is written.</summary>
    public static IApplicationBuilder CaptureEndpointForHttpMetrics(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            if (context.GetEndpoint() is RouteEndpoint endpoint)
            {
                context.Items[EndpointKey] = endpoint;
            }

            return next(context);
        });

    private static string RouteTemplate(HttpContext context)
    {
        var endpoint = context.GetEndpoint() as RouteEndpoint ?? context.Items[EndpointKey] as RouteEndpoint;
        return endpoint?.RoutePattern.RawText is { } template ? "/" + template.TrimStart('/') : "";
    }
}

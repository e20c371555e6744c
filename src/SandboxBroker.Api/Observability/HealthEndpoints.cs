using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace SandboxBroker.Api.Observability;

/// <summary>
/// Probes (no auth, outside the base path): /healthz liveness and /readyz readiness through the framework's health
/// checks (same JSON and status codes as before: 200 ready or degraded, 503 not_ready), and / service info.
/// </summary>
internal static class HealthEndpoints
{
    // MapHealthChecks answers every method; probes are read-only, so anything but GET (and HEAD, routed as GET) is 405.
    private static readonly HttpMethodMetadata GetOnly = new([HttpMethods.Get]);

    public static IServiceCollection AddProbes(this IServiceCollection services)
    {
        services.AddReadinessCheck<StoreReadinessCheck>("store");
        return services;
    }

    public static IEndpointRouteBuilder MapProbes(this IEndpointRouteBuilder app, string basePath)
    {
        // Liveness runs no check: the process serves HTTP, whatever its dependencies do.
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteLivenessAsync })
            .WithMetadata(GetOnly).WithDisplayName("Liveness: the process serves HTTP (no dependencies)").AllowAnonymous();

        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(Readiness.ReadyTag),
            ResponseWriter = WriteReadinessAsync,
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        }).WithMetadata(GetOnly).WithDisplayName("Readiness: store reachable within 1 s and the first sync attempt finished").AllowAnonymous();

        app.MapGet("/", (IEnumerable<ServiceFact> facts) =>
        {
            var info = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["service"] = "Sandbox Broker API",
                ["version"] = typeof(HealthEndpoints).Assembly.GetName().Version?.ToString(3) ?? "1.0.0",
                ["docs"] = $"{basePath}/docs",
                ["openapi"] = $"{basePath}/openapi.json",
            };
            foreach (var fact in facts)
            {
                info[fact.Name] = fact.Value;
            }

            return TypedResults.Ok(info);
        }).WithTags("Probes").WithName("ServiceInfo").WithSummary("Service, version, docs link and what the features report (e.g. csp_mode)").AllowAnonymous();
        return app;
    }

    private static Task WriteLivenessAsync(HttpContext context, HealthReport report) =>
        WriteAsync(context, new { status = "healthy", timestamp = Now(context) });

    private static Task WriteReadinessAsync(HttpContext context, HealthReport report) =>
        WriteAsync(context, new
        {
            status = report.Status switch
            {
                HealthStatus.Healthy => "ready",
                HealthStatus.Degraded => "degraded",
                _ => "not_ready",
            },
            timestamp = Now(context),
            checks = report.Entries.ToDictionary(e => e.Key, e => e.Value.Description ?? e.Value.Status.ToString(), StringComparer.Ordinal),
        });

    private static long Now(HttpContext context) =>
        context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeSeconds();

    private static Task WriteAsync<T>(HttpContext context, T body)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(context.Response.Body, body, JsonSerializerOptions.Web, context.RequestAborted);
    }
}

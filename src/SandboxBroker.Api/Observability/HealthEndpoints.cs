namespace SandboxBroker.Api.Observability;

/// <summary>Probes (no auth, outside the base path): /healthz liveness, /readyz readiness, / service info.</summary>
internal static class HealthEndpoints
{
    public static IServiceCollection AddProbes(this IServiceCollection services)
    {
        services.AddSingleton<IReadinessCheck, StoreReadinessCheck>();
        return services;
    }

    public static IEndpointRouteBuilder MapProbes(this IEndpointRouteBuilder app, string basePath)
    {
        app.MapGet("/healthz", (TimeProvider time) => TypedResults.Ok(new { status = "healthy", timestamp = time.GetUtcNow().ToUnixTimeSeconds() }))
            .WithTags("Probes").WithSummary("Liveness: the process serves HTTP (no dependencies)");

        app.MapGet("/readyz", ReadyAsync)
            .WithTags("Probes").WithSummary("Readiness: store reachable within 1 s and the first sync attempt finished");

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
        }).WithTags("Probes").WithSummary("Service, version, docs link and what the features report (e.g. csp_mode)");
        return app;
    }

    private static async Task<IResult> ReadyAsync(IEnumerable<IReadinessCheck> checks, TimeProvider time, HttpContext context)
    {
        var results = await Task.WhenAll(checks.Select(async c => (c.Name, Result: await c.CheckAsync(context.RequestAborted))));
        var ready = results.All(r => r.Result.Status != CheckStatus.Failed);
        var degraded = results.Any(r => r.Result.Status == CheckStatus.Degraded);
        var body = new
        {
            status = ready ? (degraded ? "degraded" : "ready") : "not_ready",
            timestamp = time.GetUtcNow().ToUnixTimeSeconds(),
            checks = results.ToDictionary(r => r.Name, r => r.Result.Detail),
        };
        return ready ? TypedResults.Ok(body) : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}

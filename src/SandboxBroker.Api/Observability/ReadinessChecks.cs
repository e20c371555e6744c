using Microsoft.Extensions.Diagnostics.HealthChecks;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Observability;

/// <summary>
/// Readiness is the framework's health checks: every check tagged <see cref="ReadyTag"/> is part of /readyz, where a
/// degraded check (e.g. an open CSP circuit) leaves the broker ready and an unhealthy one makes it unready.
/// </summary>
internal static class Readiness
{
    public const string ReadyTag = "ready";

    public static IHealthChecksBuilder AddReadinessCheck<T>(this IServiceCollection services, string name)
        where T : class, IHealthCheck =>
        services.AddHealthChecks().AddCheck<T>(name, tags: [ReadyTag]);
}

/// <summary>The store answers within 1 s.</summary>
internal sealed class StoreReadinessCheck(ISandboxStore store, StoreChoice choice, TimeProvider time) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await store.PingAsync(linked.Token).WaitAsync(TimeSpan.FromSeconds(1), time, cancellationToken);
            return HealthCheckResult.Healthy($"ok ({choice.Provider})");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"unreachable ({choice.Provider}): {ex.GetType().Name}");
        }
    }
}

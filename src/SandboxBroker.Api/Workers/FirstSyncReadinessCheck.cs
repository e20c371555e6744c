using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using SandboxBroker.Api.Csp;

namespace SandboxBroker.Api.Workers;

/// <summary>While jobs are enabled, the first sync attempt has finished (successful or not).</summary>
internal sealed class FirstSyncReadinessCheck(ReadinessState readiness, IOptions<JobsOptions> jobs, ICspProvider csp) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(
            !jobs.Value.Enabled ? HealthCheckResult.Healthy($"jobs disabled (csp mode {csp.Mode})")
            : readiness.FirstSyncAttempted ? HealthCheckResult.Healthy($"first sync attempted (csp mode {csp.Mode})")
            : HealthCheckResult.Unhealthy($"waiting for the first sync (csp mode {csp.Mode})"));
}

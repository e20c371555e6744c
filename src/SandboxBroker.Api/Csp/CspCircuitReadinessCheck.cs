using Microsoft.Extensions.Diagnostics.HealthChecks;
using Polly.CircuitBreaker;

namespace SandboxBroker.Api.Csp;

/// <summary>The CSP circuit in /readyz: open means degraded, never unready (allocation works from the store).</summary>
internal sealed class CspCircuitReadinessCheck(CspCircuit circuit) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(circuit.StateProvider.CircuitState switch
        {
            CircuitState.Closed => HealthCheckResult.Healthy("live, circuit closed"),
            CircuitState.HalfOpen => HealthCheckResult.Degraded("live, circuit half-open (probing CSP)"),
            CircuitState.Isolated => HealthCheckResult.Degraded("live, circuit isolated by an operator"),
            _ => HealthCheckResult.Degraded("live, circuit open: CSP calls are paused"),
        });
}

using Polly.CircuitBreaker;
using SandboxBroker.Api.Observability;

namespace SandboxBroker.Api.Csp;

/// <summary>The CSP circuit in /readyz: open means degraded, never unready (allocation works from the store).</summary>
internal sealed class CspCircuitReadinessCheck(CspCircuit circuit) : IReadinessCheck
{
    public string Name => "csp";

    public Task<CheckResult> CheckAsync(CancellationToken ct) => Task.FromResult(circuit.StateProvider.CircuitState switch
    {
        CircuitState.Closed => new CheckResult(CheckStatus.Ok, "live, circuit closed"),
        CircuitState.HalfOpen => new CheckResult(CheckStatus.Degraded, "live, circuit half-open (probing CSP)"),
        CircuitState.Isolated => new CheckResult(CheckStatus.Degraded, "live, circuit isolated by an operator"),
        _ => new CheckResult(CheckStatus.Degraded, "live, circuit open: CSP calls are paused"),
    });
}

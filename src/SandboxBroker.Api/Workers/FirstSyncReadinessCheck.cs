using Microsoft.Extensions.Options;
using SandboxBroker.Api.Csp;
using SandboxBroker.Api.Observability;

namespace SandboxBroker.Api.Workers;

/// <summary>While jobs are enabled, the first sync attempt has finished (successful or not).</summary>
internal sealed class FirstSyncReadinessCheck(ReadinessState readiness, IOptions<JobsOptions> jobs, ICspProvider csp) : IReadinessCheck
{
    public string Name => "sync";

    public Task<CheckResult> CheckAsync(CancellationToken ct) => Task.FromResult(
        !jobs.Value.Enabled ? new CheckResult(CheckStatus.Ok, $"jobs disabled (csp mode {csp.Mode})")
        : readiness.FirstSyncAttempted ? new CheckResult(CheckStatus.Ok, $"first sync attempted (csp mode {csp.Mode})")
        : new CheckResult(CheckStatus.Failed, $"waiting for the first sync (csp mode {csp.Mode})"));
}

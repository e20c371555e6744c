using Microsoft.Extensions.Options;
using SandboxBroker.Api.Invariants;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Workers.Runner;

namespace SandboxBroker.Api.Workers.Invariants;

/// <summary>
/// The invariant check as a periodic job, every Jobs:Invariants:Interval. Violations are the checker's metric
/// (broker_invariant_violations), not a failed pass: the pass failed only when it could not finish.
/// </summary>
internal sealed class InvariantsJob(InvariantChecker checker, IOptionsMonitor<JobsOptions> options) : IBrokerJob
{
    public string Name => JobNames.Invariants;

    public TimeSpan IntervalFor(JobState? state) => options.CurrentValue.Invariants.Interval;

    public async Task<JobVerdict> RunPassAsync(JobProgress progress, CancellationToken ct)
    {
        var report = await checker.RunOnceAsync(ct);
        progress.Add(JobProgress.Examined, report.Counts.Values.Sum());
        progress.Add(JobProgress.Failed, report.Violations);
        progress.Add("violations", report.Violations);
        return JobVerdict.Success;
    }

    public void Observe(JobTick tick)
    {
    }
}

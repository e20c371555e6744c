using Microsoft.Extensions.Options;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Workers.Runner;

namespace SandboxBroker.Api.Workers.Cleanup;

/// <summary>Cleanup as a periodic job, every Jobs:Cleanup:Interval.</summary>
internal sealed class CleanupJob(CleanupService cleanup, IOptionsMonitor<JobsOptions> options) : IBrokerJob
{
    public string Name => JobNames.Cleanup;

    public TimeSpan IntervalFor(JobState? state) => options.CurrentValue.Cleanup.Interval;

    public async Task<JobVerdict> RunPassAsync(JobProgress progress, CancellationToken ct) => Verdict(await cleanup.RunOnceAsync(progress, ct));

    /// <summary>Single failed deletions do not fail the pass (they have their own backoff); an open circuit skips it.</summary>
    public static JobVerdict Verdict(CleanupResult result) =>
        result.CircuitOpen ? JobVerdict.Skipped : result.Stopped ? JobVerdict.Stopped : JobVerdict.Success;

    public void Observe(JobTick tick)
    {
    }
}

using Microsoft.Extensions.Options;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Workers.Runner;

namespace SandboxBroker.Api.Workers.StalePurge;

/// <summary>The stale purge as a periodic job, every Jobs:StalePurge:Interval with Jobs:StalePurge:GracePeriod.</summary>
internal sealed class StalePurgeJob(StalePurgeService purge, IOptionsMonitor<JobsOptions> options) : IBrokerJob
{
    public string Name => JobNames.StalePurge;

    public TimeSpan IntervalFor(JobState? state) => options.CurrentValue.StalePurge.Interval;

    public async Task<JobVerdict> RunPassAsync(JobProgress progress, CancellationToken ct)
    {
        await purge.RunOnceAsync(options.CurrentValue.StalePurge.GracePeriod, progress, ct);
        return JobVerdict.Success;
    }

    public void Observe(JobTick tick)
    {
    }
}

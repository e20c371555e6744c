using Microsoft.Extensions.Options;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Workers.Runner;

namespace SandboxBroker.Api.Workers.Sync;

/// <summary>
/// Sync as a periodic job: every Jobs:Sync:Interval, but every Jobs:Sync:RetryInterval while no sync has succeeded
/// yet. Readiness waits for the first attempt only (a CSP outage at start-up must not keep the broker unready);
/// a sync that another instance finished counts as that attempt.
/// </summary>
internal sealed class SyncJob(SyncService sync, ReadinessState readiness, IOptionsMonitor<JobsOptions> options) : IBrokerJob
{
    private volatile bool succeeded;

    public string Name => JobNames.Sync;

    public TimeSpan IntervalFor(JobState? state)
    {
        var settings = options.CurrentValue.Sync;
        return succeeded || state?.LastSuccessAt is not null ? settings.Interval : settings.RetryInterval;
    }

    public async Task<JobVerdict> RunPassAsync(JobProgress progress, CancellationToken ct) => Verdict(await sync.RunOnceAsync(progress, ct));

    public static JobVerdict Verdict(SyncResult result) => result.Guarded ? JobVerdict.Guarded : JobVerdict.Success;

    public void Observe(JobTick tick)
    {
        if (tick is JobTick.Ran { Verdict.Succeeded: true } || tick.State?.LastSuccessAt is not null)
        {
            succeeded = true;
        }

        if (tick is JobTick.Ran || tick.State?.LastFinishedAt is not null)
        {
            readiness.MarkFirstSyncAttempted();
        }
    }
}

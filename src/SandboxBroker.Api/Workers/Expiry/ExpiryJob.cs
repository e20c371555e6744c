using Microsoft.Extensions.Options;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Workers.Runner;

namespace SandboxBroker.Api.Workers.Expiry;

/// <summary>Auto-expiry as a periodic job, every Jobs:Expiry:Interval.</summary>
internal sealed class ExpiryJob(ExpiryService expiry, IOptionsMonitor<JobsOptions> options) : IBrokerJob
{
    public string Name => JobNames.Expiry;

    public TimeSpan IntervalFor(JobState? state) => options.CurrentValue.Expiry.Interval;

    public async Task<JobVerdict> RunPassAsync(JobProgress progress, CancellationToken ct)
    {
        await expiry.RunOnceAsync(progress, ct);
        return JobVerdict.Success;
    }

    public void Observe(JobTick tick)
    {
    }
}

using Microsoft.Extensions.Options;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Workers;
using SandboxBroker.Api.Workers.Runner;

namespace SandboxBroker.Api.Reservations;

/// <summary>Ends reservations past ends_at and gives back their unused sandboxes, every Jobs:Reservations:Interval, once cluster-wide.</summary>
internal sealed class ReservationsJob(ReservationService reservations, IOptionsMonitor<JobsOptions> options) : IBrokerJob
{
    public string Name => JobNames.Reservations;

    public TimeSpan IntervalFor(JobState? state) => options.CurrentValue.Reservations.Interval;

    public async Task<JobVerdict> RunPassAsync(JobProgress progress, CancellationToken ct)
    {
        await reservations.EndDueAsync(progress, ct);
        return JobVerdict.Success;
    }

    public void Observe(JobTick tick)
    {
    }
}

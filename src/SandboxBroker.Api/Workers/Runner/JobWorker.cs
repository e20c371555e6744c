using System.Diagnostics.CodeAnalysis;

namespace SandboxBroker.Api.Workers.Runner;

/// <summary>
/// One BackgroundService per job: a tick at start-up, then one per period on a PeriodicTimer driven
/// by the injected TimeProvider. Each tick is guarded: a failure is logged and the loop goes on (an exception
/// escaping ExecuteAsync would stop the host). Whether a tick runs a pass is the runner's call.
/// </summary>
internal sealed partial class JobWorker<TJob>(TJob job, JobRunner runner, TimeProvider time, ILogger<JobWorker<TJob>> logger)
    : BackgroundService where TJob : IBrokerJob
{
    /// <summary>The period after a failed first tick (the store was unreachable): try again soon.</summary>
    private static readonly TimeSpan FallbackPeriod = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // the synchronous part of ExecuteAsync would hold up host start-up
        try
        {
            using var timer = new PeriodicTimer(await TickAsync(FallbackPeriod, stoppingToken), time);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var period = await TickAsync(timer.Period, stoppingToken);
                if (timer.Period != period)
                {
                    timer.Period = period; // sync: from its retry interval to its interval after the first success
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // host shutdown: the runner let the current step finish and released the run lock
        }
    }

    /// <summary>One guarded tick; returns the timer period to use next (the current one when the tick failed).</summary>
    [SuppressMessage("Design", "CA1031:Do not catch general exception types",
        Justification = "A failed tick is logged and the worker carries on: one bad pass must never stop the host's job.")]
    private async Task<TimeSpan> TickAsync(TimeSpan currentPeriod, CancellationToken ct)
    {
        try
        {
            var tick = await runner.TryRunPeriodicAsync(job, ct);
            job.Observe(tick);
            return job.IntervalFor(tick.State);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            LogTickFailed(logger, job.Name, ex);
            return currentPeriod;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {Job} tick failed; the worker carries on")]
    private static partial void LogTickFailed(ILogger logger, string job, Exception exception);
}

using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Workers.Runner;

/// <summary>
/// One BackgroundService per job (SPEC section 7): a tick at start-up, then one per period on a PeriodicTimer driven
/// by the injected TimeProvider. Each tick is guarded: a failure is logged and the loop goes on (an exception
/// escaping ExecuteAsync would stop the host). Whether a tick runs a pass is the runner's call.
/// </summary>
internal sealed partial class JobWorker<TJob>(TJob job, JobRunner runner, TimeProvider time, ILogger<JobWorker<TJob>> logger)
    : BackgroundService where TJob : IBrokerJob
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // the synchronous part of ExecuteAsync would hold up host start-up
        try
        {
            var state = await TickAsync(stoppingToken);
            using var timer = new PeriodicTimer(job.IntervalFor(state), time);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                state = await TickAsync(stoppingToken);
                var period = job.IntervalFor(state);
                if (timer.Period != period)
                {
                    timer.Period = period; // sync: from its retry interval to its interval after the first success
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // host shutdown: the runner already let the current step finish and released the run lock
        }
    }

    private async Task<JobState?> TickAsync(CancellationToken ct)
    {
        try
        {
            var tick = await runner.TryRunPeriodicAsync(job, ct);
            job.Observe(tick);
            return tick.State;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            LogTickFailed(logger, job.Name, ex);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {Job} tick failed; the worker carries on")]
    private static partial void LogTickFailed(ILogger logger, string job, Exception exception);
}

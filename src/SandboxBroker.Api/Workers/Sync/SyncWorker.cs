using Microsoft.Extensions.Options;

namespace SandboxBroker.Api.Workers.Sync;

/// <summary>
/// Runs sync at start-up and then every Jobs:Sync:Interval; while no sync has succeeded yet it retries every
/// Jobs:Sync:RetryInterval. Each tick is guarded: a failure is logged and counted, never stops the host.
/// </summary>
internal sealed partial class SyncWorker(
    SyncService sync,
    ReadinessState readiness,
    IOptionsMonitor<JobsOptions> options,
    TimeProvider time,
    ILogger<SyncWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var succeeded = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await sync.RunOnceAsync(stoppingToken);
                succeeded = true;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogSyncFailed(logger, ex);
            }
            finally
            {
                readiness.MarkFirstSyncAttempted();
            }

            var settings = options.CurrentValue.Sync;
            try
            {
                await Task.Delay(succeeded ? settings.Interval : settings.RetryInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Sync failed")]
    private static partial void LogSyncFailed(ILogger logger, Exception exception);
}

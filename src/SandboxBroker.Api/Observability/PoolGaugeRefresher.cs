using Microsoft.Extensions.Options;
using SandboxBroker.Api.Capacity;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Observability;

/// <summary>
/// Keeps the pool gauges current from the store's cheap counts, every Metrics:PoolRefreshInterval, so a scrape
/// reads memory only and never costs a store call (the original scanned the table on /metrics). A failing
/// store keeps the last values; the failure is logged once per outage, not on every tick.
/// </summary>
internal sealed partial class PoolGaugeRefresher(
    ISandboxStore store,
    CapacityService capacity,
    BrokerMetrics metrics,
    TimeProvider time,
    IOptions<MetricsOptions> options,
    ILogger<PoolGaugeRefresher> logger) : BackgroundService
{
    private bool failing;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        using var timer = new PeriodicTimer(options.Value.PoolRefreshInterval, time);
        try
        {
            do
            {
                await RefreshOnceAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
    }

    /// <summary>One refresh; true when the gauges were updated.</summary>
    public async Task<bool> RefreshOnceAsync(CancellationToken ct)
    {
        try
        {
            var counts = await store.CountAsync(null, ct);
            metrics.SetPool(counts, time.NowEpochSeconds());
            foreach (var pool in (string?[])[null, .. options.Value.Pools])
            {
                var snapshot = await capacity.GetAsync(pool, pool is null ? counts : null, ct);
                metrics.PoolAllocationRate.WithLabels(pool ?? "all").Set(snapshot.AllocationsPerMinute);
                // No allocation in the window: +Inf, so "ETA below 15 minutes" never holds for an idle pool.
                metrics.PoolExhaustionEta.WithLabels(pool ?? "all").Set(snapshot.ExhaustionEtaSeconds ?? double.PositiveInfinity);
            }
            if (failing)
            {
                failing = false;
                LogRecovered(logger);
            }

            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            if (!failing)
            {
                failing = true;
                LogFailed(logger, ex);
            }

            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pool gauges not refreshed: the store count failed; keeping the last values")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pool gauges refreshed again")]
    private static partial void LogRecovered(ILogger logger);
}

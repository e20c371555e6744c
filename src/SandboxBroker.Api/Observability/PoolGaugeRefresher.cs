using System.Text.Json;
using Microsoft.Extensions.Options;
using SandboxBroker.Api.Capacity;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Observability;

/// <summary>
/// Keeps the pool gauges current from the store's cheap counts, every Metrics:PoolRefreshInterval, so a scrape
/// reads memory only and never costs a store call (the original scanned the table on /metrics). A failing
/// store keeps the last values; the failure is logged once per outage, not on every tick.
/// With a store several replicas share (DynamoDB registers an <see cref="IPeriodicShare"/>) ONE replica per period,
/// cluster-wide, counts; every replica, that one included, then sets its gauges from the same shared values, so
/// Prometheus sees the same pool totals from every replica (aggregate them with max(), not sum()), and
/// broker_pool_last_refresh_timestamp says when that replica's values were counted, wherever.
/// </summary>
internal sealed partial class PoolGaugeRefresher(
    ISandboxStore store,
    CapacityService capacity,
    BrokerMetrics metrics,
    TimeProvider time,
    IOptions<MetricsOptions> options,
    ILogger<PoolGaugeRefresher> logger,
    IPeriodicShare? share = null) : BackgroundService
{
    /// <summary>The shared value's name (SHARED#pool-gauges on DynamoDB).</summary>
    public const string ShareName = "pool-gauges";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
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

    /// <summary>One refresh; true when the gauges were updated (from counts made here or by another replica).</summary>
    public async Task<bool> RefreshOnceAsync(CancellationToken ct)
    {
        try
        {
            var values = share is null
                ? await CountAsync(ct)
                : await share.GetOrComputeAsync(ShareName, options.Value.PoolRefreshInterval,
                    async c => JsonSerializer.Serialize(await CountAsync(c), Json), ct) is { } shared
                    ? JsonSerializer.Deserialize<PoolGaugeValues>(shared.Value, Json)
                    : null; // another replica holds the first period's lease and has written nothing yet
            if (values is null)
            {
                return false;
            }

            metrics.SetPool(values.Counts, values.CountedAt);
            foreach (var pool in values.Pools)
            {
                metrics.PoolAllocationRate.WithLabels(pool.Pool).Set(pool.AllocationsPerMinute);
                // No allocation in the window: +Inf, so "ETA below 15 minutes" never holds for an idle pool.
                metrics.PoolExhaustionEta.WithLabels(pool.Pool).Set(pool.ExhaustionEtaSeconds ?? double.PositiveInfinity);
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

    /// <summary>The counts behind every pool gauge: the store's live counts, and each pool's allocation rate.</summary>
    private async Task<PoolGaugeValues> CountAsync(CancellationToken ct)
    {
        var counts = await store.CountAsync(null, ct);
        var pools = new List<PoolRate>();
        foreach (var pool in (string?[])[null, .. options.Value.Pools])
        {
            var snapshot = await capacity.GetAsync(pool, pool is null ? counts : null, ct);
            pools.Add(new PoolRate(pool ?? "all", snapshot.AllocationsPerMinute, snapshot.ExhaustionEtaSeconds));
        }

        return new PoolGaugeValues(counts, pools, time.NowEpochSeconds());
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pool gauges not refreshed: the store count failed; keeping the last values")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pool gauges refreshed again")]
    private static partial void LogRecovered(ILogger logger);
}

/// <summary>What one refresh counted (shared between replicas as JSON).</summary>
internal sealed record PoolGaugeValues(PoolCounts Counts, IReadOnlyList<PoolRate> Pools, long CountedAt);

/// <summary>One pool's allocation rate and exhaustion ETA (null: nothing allocated in the window).</summary>
internal sealed record PoolRate(string Pool, double AllocationsPerMinute, long? ExhaustionEtaSeconds);

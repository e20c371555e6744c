using Prometheus;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Observability;

/// <summary>
/// Every broker_* instrument, under the original broker's names so its dashboards and alerts
/// keep working. Labels come from small fixed sets only; every labelled series exists at 0 from start-up.
/// The instruments live in this instance's own <see cref="Registry"/>, which the host serves at /metrics together
/// with the HTTP request and .NET process metrics: each host in a process (as in the tests) exposes only what it
/// did itself. Add new instruments here, never through the static <c>Metrics.Create*</c> (they would not be served).
/// </summary>
public sealed class BrokerMetrics
{
    public static readonly string[] AllocateOutcomes = ["success", "idempotent", "after_release", "no_sandboxes", "quota_exceeded", "maintenance", "not_owner", "error"];
    public static readonly string[] DeletionMarkedOutcomes = ["success", "repeat", "not_found", "not_owner", "error"];
    public static readonly string[] JobOutcomes = ["success", "error", "guarded", "skipped"];
    public static readonly string[] NiosXaasOutcomes = ["success", "skipped", "failed", "shadow"];
    public static readonly string[] Jobs = ["sync", "cleanup", "expiry", "stale_purge", "invariants", "reservations"];

    /// <summary>
    /// The label naming a job. Never "job" or "instance": Prometheus sets those on every scraped series, so a metric
    /// label with either name collides with the target's (renamed to exported_job, or needing honor_labels).
    /// </summary>
    public const string JobLabel = "job_name";

    public BrokerMetrics()
        : this(Metrics.NewCustomRegistry())
    {
    }

    public BrokerMetrics(CollectorRegistry registry)
    {
        Registry = registry;
        var factory = Metrics.WithCustomRegistry(registry);

        AllocateTotal = factory.CreateCounter("broker_allocate_total", "Allocation requests by outcome.", "outcome");
        AllocateConflicts = factory.CreateCounter("broker_allocate_conflicts_total", "Conditional claims lost to a concurrent claim.");
        AllocationQuotaExceeded = factory.CreateCounter(
            "broker_allocation_quota_exceeded_total", "New allocations refused by the token's per-minute quota, by token name.", "token");
        DeletionMarked = factory.CreateCounter("broker_deletion_marked_total", "mark-for-deletion requests by outcome.", "outcome");
        SyncTotal = factory.CreateCounter("broker_sync_total", "Sync runs by outcome.", "outcome");
        CleanupTotal = factory.CreateCounter("broker_cleanup_total", "Cleanup runs by outcome.", "outcome");
        ExpiryTotal = factory.CreateCounter("broker_expiry_total", "Auto-expiry runs by outcome.", "outcome");

        AllocationLatency = factory.CreateHistogram(
            "broker_allocation_latency_seconds", "Time to serve an allocation.",
            new HistogramConfiguration { Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5, 5, 10] });
        SyncDuration = factory.CreateHistogram(
            "broker_sync_duration_seconds", "Duration of sync runs.",
            new HistogramConfiguration { Buckets = [0.1, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120] });
        CleanupDuration = factory.CreateHistogram(
            "broker_cleanup_duration_seconds", "Duration of cleanup runs.",
            new HistogramConfiguration { Buckets = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900] });

        JobLastSuccess = factory.CreateGauge(
            "broker_job_last_success_timestamp_seconds", "Unix time of the job's last successful pass on this instance.", JobLabel);
        JobDuration = factory.CreateHistogram(
            "broker_job_duration_seconds", "Duration of job passes.", new HistogramConfiguration
            {
                LabelNames = [JobLabel],
                Buckets = [0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
            });
        CspCircuitState = factory.CreateGauge(
            "broker_csp_circuit_state", "CSP circuit breaker state: 0 closed, 1 open, 2 half-open, 3 isolated.");
        InvariantViolations = factory.CreateGauge(
            "broker_invariant_violations", "Invariant violations found by the last invariant check.");

        // Unlabelled totals, as the original's; refreshed from the store's cheap counts by PoolGaugeRefresher.
        PoolAvailable = factory.CreateGauge("broker_pool_available", "Sandboxes available for allocation.");
        PoolAllocated = factory.CreateGauge("broker_pool_allocated", "Sandboxes allocated to a participant.");
        PoolPendingDeletion = factory.CreateGauge("broker_pool_pending_deletion", "Sandboxes waiting for deletion upstream.");
        PoolStale = factory.CreateGauge("broker_pool_stale", "Sandboxes no longer listed upstream.");
        PoolDeletionFailed = factory.CreateGauge("broker_pool_deletion_failed", "Sandboxes whose deletion failed for good.");
        PoolTotal = factory.CreateGauge("broker_pool_total", "Sandboxes in every state but deleted.");
        PoolUnverifiedDeletions = factory.CreateGauge(
            "broker_pool_unverified_deletions", "Tombstones whose account no sync has yet confirmed gone upstream (SPEC 12).");
        PoolLastRefresh = factory.CreateGauge(
            "broker_pool_gauges_last_refresh_timestamp_seconds", "Unix time the pool gauges were last read from the store.");

        // The NIOSXaaS pre-delete step (SPEC 12), under the original's names.
        NiosXaasCleanupTotal = factory.CreateCounter("broker_niosxaas_cleanup_total", "NIOSXaaS pre-delete steps by outcome.", "outcome");
        NiosXaasServicesDeleted = factory.CreateCounter("broker_niosxaas_services_deleted_total", "NIOSXaaS universal services deleted.");
        NiosXaasAuthTotal = factory.CreateCounter("broker_niosxaas_auth_total", "NIOSXaaS sign-ins by outcome.", "outcome");
        NiosXaasCleanupDuration = factory.CreateHistogram(
            "broker_niosxaas_cleanup_duration_seconds", "Duration of one sandbox's NIOSXaaS pre-delete step.",
            new HistogramConfiguration { Buckets = [1, 5, 10, 15, 30, 60] });
        NiosXaasCircuitState = factory.CreateGauge(
            "broker_niosxaas_circuit_state", "NIOSXaaS circuit breaker state: 0 closed, 1 open, 2 half-open, 3 isolated.");
        foreach (var outcome in NiosXaasOutcomes)
        {
            NiosXaasCleanupTotal.WithLabels(outcome);
        }

        NiosXaasAuthTotal.WithLabels("success");
        NiosXaasAuthTotal.WithLabels("failed");
        // Lab lifecycle (SPEC 13, 14): extensions, the reserved count, and per pool (all + Metrics:Pools) rate and ETA.
        LeaseExtensions = factory.CreateCounter("broker_lease_extensions_total", "Lease extensions applied.");
        PoolReserved = factory.CreateGauge("broker_pool_reserved", "Sandboxes held by a reservation for one lab.");
        PoolAllocationRate = factory.CreateGauge(
            "broker_pool_allocation_rate_per_minute", "Allocations per minute over the last 10 minutes, per pool (all, Metrics:Pools).", "pool");
        PoolExhaustionEta = factory.CreateGauge(
            "broker_pool_exhaustion_eta_seconds", "Seconds until the pool runs dry at the current allocation rate (+Inf when nothing was allocated in 10 minutes).", "pool");

        foreach (var job in Jobs)
        {
            JobLastSuccess.WithLabels(job);
            JobDuration.WithLabels(job);
        }

        foreach (var outcome in AllocateOutcomes)
        {
            AllocateTotal.WithLabels(outcome);
        }

        foreach (var outcome in DeletionMarkedOutcomes)
        {
            DeletionMarked.WithLabels(outcome);
        }

        foreach (var outcome in JobOutcomes)
        {
            SyncTotal.WithLabels(outcome);
            CleanupTotal.WithLabels(outcome);
            ExpiryTotal.WithLabels(outcome);
        }
    }

    /// <summary>The registry served at /metrics by the host that owns this instance.</summary>
    public CollectorRegistry Registry { get; }

    public Counter AllocateTotal { get; }

    public Counter AllocateConflicts { get; }

    public Counter AllocationQuotaExceeded { get; }

    public Counter DeletionMarked { get; }

    public Counter SyncTotal { get; }

    public Counter CleanupTotal { get; }

    public Counter ExpiryTotal { get; }

    public Histogram AllocationLatency { get; }

    public Histogram SyncDuration { get; }

    public Histogram CleanupDuration { get; }

    /// <summary>Unix time of each job's last successful pass (job: sync, cleanup, expiry, stale_purge, invariants).</summary>
    public Gauge JobLastSuccess { get; }

    public Histogram JobDuration { get; }

    /// <summary>CSP circuit breaker: 0 closed, 1 open, 2 half-open, 3 isolated.</summary>
    public Gauge CspCircuitState { get; }

    public Gauge InvariantViolations { get; }

    public Gauge PoolAvailable { get; }

    public Gauge PoolAllocated { get; }

    public Gauge PoolPendingDeletion { get; }

    public Gauge PoolStale { get; }

    public Gauge PoolDeletionFailed { get; }

    public Gauge PoolTotal { get; }

    public Gauge PoolLastRefresh { get; }

    public Gauge PoolUnverifiedDeletions { get; }

    public Counter NiosXaasCleanupTotal { get; }

    public Counter NiosXaasServicesDeleted { get; }

    public Counter NiosXaasAuthTotal { get; }

    public Histogram NiosXaasCleanupDuration { get; }

    public Gauge NiosXaasCircuitState { get; }
    public Counter LeaseExtensions { get; }

    public Gauge PoolReserved { get; }

    public Gauge PoolAllocationRate { get; }

    public Gauge PoolExhaustionEta { get; }

    /// <summary>Sets the pool gauges from one consistent set of counts.</summary>
    public void SetPool(PoolCounts counts, long nowEpochSeconds)
    {
        PoolAvailable.Set(counts.Available);
        PoolAllocated.Set(counts.Allocated);
        PoolPendingDeletion.Set(counts.PendingDeletion);
        PoolStale.Set(counts.Stale);
        PoolDeletionFailed.Set(counts.DeletionFailed);
        PoolTotal.Set(counts.Total);
        PoolUnverifiedDeletions.Set(counts.UnverifiedDeletions);
        PoolReserved.Set(counts.Reserved);
        PoolLastRefresh.Set(nowEpochSeconds);
    }
}

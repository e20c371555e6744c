using Prometheus;

namespace SandboxBroker.Api.Observability;

/// <summary>
/// Every broker_* instrument, under the original broker's names (SPEC section 9) so its dashboards and alerts
/// keep working. Labels come from small fixed sets only; every labelled series exists at 0 from start-up.
/// </summary>
public sealed class BrokerMetrics
{
    public static readonly string[] AllocateOutcomes = ["success", "idempotent", "after_release", "no_sandboxes", "error"];
    public static readonly string[] DeletionMarkedOutcomes = ["success", "repeat", "not_found", "not_owner", "error"];
    public static readonly string[] JobOutcomes = ["success", "error", "guarded", "skipped"];

    public Counter AllocateTotal { get; } = Metrics.CreateCounter(
        "broker_allocate_total", "Allocation requests by outcome.", "outcome");

    public Counter AllocateConflicts { get; } = Metrics.CreateCounter(
        "broker_allocate_conflicts_total", "Conditional claims lost to a concurrent claim.");

    public Counter DeletionMarked { get; } = Metrics.CreateCounter(
        "broker_deletion_marked_total", "mark-for-deletion requests by outcome.", "outcome");

    public Counter SyncTotal { get; } = Metrics.CreateCounter("broker_sync_total", "Sync runs by outcome.", "outcome");

    public Counter CleanupTotal { get; } = Metrics.CreateCounter("broker_cleanup_total", "Cleanup runs by outcome.", "outcome");

    public Counter ExpiryTotal { get; } = Metrics.CreateCounter("broker_expiry_total", "Auto-expiry runs by outcome.", "outcome");

    public Histogram AllocationLatency { get; } = Metrics.CreateHistogram(
        "broker_allocation_latency_seconds", "Time to serve an allocation.",
        new HistogramConfiguration { Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5, 5, 10] });

    public Histogram SyncDuration { get; } = Metrics.CreateHistogram(
        "broker_sync_duration_seconds", "Duration of sync runs.",
        new HistogramConfiguration { Buckets = [0.1, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120] });

    public Histogram CleanupDuration { get; } = Metrics.CreateHistogram(
        "broker_cleanup_duration_seconds", "Duration of cleanup runs.",
        new HistogramConfiguration { Buckets = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900] });

    /// <summary>Unix time of each job's last successful pass (job: sync, cleanup, expiry, stale_purge, invariants).</summary>
    public Gauge JobLastSuccess { get; } = Metrics.CreateGauge(
        "broker_job_last_success_timestamp_seconds", "Unix time of the job's last successful pass on this instance.", "job");

    public Histogram JobDuration { get; } = Metrics.CreateHistogram(
        "broker_job_duration_seconds", "Duration of job passes.", new HistogramConfiguration
        {
            LabelNames = ["job"],
            Buckets = [0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
        });

    /// <summary>CSP circuit breaker: 0 closed, 1 open, 2 half-open, 3 isolated.</summary>
    public Gauge CspCircuitState { get; } = Metrics.CreateGauge(
        "broker_csp_circuit_state", "CSP circuit breaker state: 0 closed, 1 open, 2 half-open, 3 isolated.");

    public Gauge InvariantViolations { get; } = Metrics.CreateGauge(
        "broker_invariant_violations", "Invariant violations found by the last invariant check.");

    public static readonly string[] Jobs = ["sync", "cleanup", "expiry", "stale_purge", "invariants"];

    public BrokerMetrics()
    {
        foreach (var job in Jobs)
        {
            JobLastSuccess.WithLabels(job);
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
}

using Microsoft.Extensions.Logging.Abstractions;
using SandboxBroker.Api.Invariants;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.GameDay.Infrastructure;

namespace SandboxBroker.GameDay.Scenarios;

/// <summary>
/// The checker itself, on a store broken on purpose: each kind of violation is found and named, nothing is counted
/// twice, and a pool that changes while it is walked yields no false violation.
/// </summary>
public sealed class InvariantCheckerTests
{
    private readonly InMemoryStore store = new();
    private readonly BrokerMetrics metrics = new();

    private InvariantChecker Checker() => new(store, metrics, TimeProvider.System, NullLogger<InvariantChecker>.Instance);

    private async Task<InvariantReport> CheckAsync()
    {
        using var checker = Checker();
        return await checker.CheckAsync(CancellationToken.None);
    }

    private void HealthyPool()
    {
        for (var i = 0; i < 20; i++)
        {
            store.Put(InMemoryStore.Available($"a{i:00}"));
        }

        for (var i = 0; i < 10; i++)
        {
            store.Put(InMemoryStore.Allocated($"b{i:00}", $"student-{i}"));
        }

        store.Put(InMemoryStore.Allocated("c00", "student-0", key: "lab-2"));   // a second key: allowed
        store.Put(InMemoryStore.Allocated("p00", "student-9") with { Status = SandboxStatus.PendingDeletion });
        store.Put(InMemoryStore.Allocated("f00", "student-8") with { Status = SandboxStatus.DeletionFailed });
        store.Put(InMemoryStore.Available("s00") with { Status = SandboxStatus.Stale });
        store.Put(InMemoryStore.Allocated("d00", "student-7") with { Status = SandboxStatus.Deleted });
    }

    [Fact]
    public async Task A_healthy_pool_has_no_violations_and_every_record_is_examined()
    {
        HealthyPool();
        var report = await CheckAsync();

        Assert.Equal(0, report.Violations);
        Assert.Empty(report.Details);
        Assert.Equal(21, report.Checks[InvariantChecks.UnallocatedUnheld].Examined);      // 20 available + 1 stale
        Assert.Equal(11, report.Checks[InvariantChecks.OneSandboxPerKey].Examined);
        Assert.Equal(11, report.Checks[InvariantChecks.ReplayFindsSandbox].Examined);
        Assert.Equal(2, report.Checks[InvariantChecks.HolderRecorded].Examined);
        Assert.Equal(6, report.Checks[InvariantChecks.CountsConsistent].Examined); // the live states, reserved included
        Assert.Empty(report.Checks[InvariantChecks.CountsConsistent].Inconclusive);
        Assert.Equal(20, report.Counts["available"]);
        Assert.Equal(11, report.Counts["allocated"]);
        Assert.False(report.Counts.ContainsKey("deleted"));
        Assert.Equal(34, report.Checks[InvariantChecks.HistoryReplays].Examined);       // every live record (seeded without history: nothing to replay)
        Assert.Equal(8, report.Checks.Count);
    }

    [Fact]
    public async Task A_reserved_sandbox_without_its_reservation_is_a_violation()
    {
        HealthyPool();
        store.Put(InMemoryStore.Available("r00") with { Status = SandboxStatus.Reserved, ReservationId = "rsv-gone", ReservedFor = "workshop" });
        var report = await CheckAsync();

        var violation = Assert.Single(report.Details);
        Assert.Equal((InvariantChecks.ReservationsConsistent, "r00"), (violation.Check, violation.SandboxId));
        Assert.Contains("rsv-gone", violation.Detail, StringComparison.Ordinal);
        Assert.Equal(1, report.Counts["reserved"]);
    }

    [Fact]
    public async Task Two_sandboxes_for_one_requester_and_key_are_one_violation_named_once()
    {
        HealthyPool();
        store.Put(InMemoryStore.Allocated("b99", "student-3"), recordIdempotency: false);   // student-3 / key student-3 again

        var report = await CheckAsync();

        Assert.Equal(1, report.Violations);
        Assert.Equal(1, report.Checks[InvariantChecks.OneSandboxPerKey].Violations);
        Assert.Equal(0, report.Checks[InvariantChecks.ReplayFindsSandbox].Violations);      // the same fault, not counted twice
        var detail = Assert.Single(report.Details);
        Assert.Contains("student-3", detail.Detail, StringComparison.Ordinal);
        Assert.Contains("b03", detail.Detail, StringComparison.Ordinal);
        Assert.Contains("b99", detail.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_allocated_sandbox_without_holder_key_or_time_is_incomplete()
    {
        HealthyPool();
        store.Put(InMemoryStore.Allocated("x1", "student-x") with { AllocatedAt = 0 });
        store.Put(InMemoryStore.Allocated("x2", "student-y") with { AllocatedTo = null });
        store.Put(InMemoryStore.Allocated("x3", "student-z") with { IdempotencyKey = "" });

        var report = await CheckAsync();

        Assert.Equal(3, report.Checks[InvariantChecks.AllocatedComplete].Violations);
        Assert.Equal(3, report.Violations);
        Assert.Contains(report.Details, d => d.SandboxId == "x1" && d.Detail.Contains("allocated_at 0", StringComparison.Ordinal));
        Assert.Contains(report.Details, d => d.SandboxId == "x2" && d.Detail.Contains("no holder", StringComparison.Ordinal));
        Assert.Contains(report.Details, d => d.SandboxId == "x3" && d.Detail.Contains("no idempotency key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_allocated_sandbox_its_holders_replay_would_not_find_is_a_violation()
    {
        HealthyPool();
        store.Put(InMemoryStore.Allocated("r1", "student-r"), recordIdempotency: false);     // no record at all
        store.Put(InMemoryStore.Allocated("r2", "student-s"));
        store.Record("student-s", "student-s", "a05");                                        // record names another sandbox

        var report = await CheckAsync();

        Assert.Equal(2, report.Checks[InvariantChecks.ReplayFindsSandbox].Violations);
        Assert.Contains(report.Details, d => d.SandboxId == "r1" && d.Detail.Contains("no sandbox", StringComparison.Ordinal));
        Assert.Contains(report.Details, d => d.SandboxId == "r2" && d.Detail.Contains("a05", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_released_sandbox_that_lost_its_holder_and_an_unused_one_that_has_one_are_violations()
    {
        HealthyPool();
        store.Put(InMemoryStore.Available("h1") with { Status = SandboxStatus.PendingDeletion, AllocatedAt = 5 });
        store.Put(InMemoryStore.Available("h2") with { Status = SandboxStatus.DeletionFailed, AllocatedAt = 5 });
        store.Put(InMemoryStore.Available("u1") with { AllocatedTo = "student-u" });
        store.Put(InMemoryStore.Available("u2") with { Status = SandboxStatus.Stale, AllocatedTo = "student-v" });

        var report = await CheckAsync();

        Assert.Equal(2, report.Checks[InvariantChecks.HolderRecorded].Violations);
        Assert.Equal(2, report.Checks[InvariantChecks.UnallocatedUnheld].Violations);
        Assert.Equal(4, report.Violations);
        Assert.Contains(report.Details, d => d.SandboxId == "u1" && d.Detail.Contains("student-u", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_count_that_disagrees_with_the_walk_every_time_is_a_violation()
    {
        HealthyPool();
        store.CountSkew[SandboxStatus.Allocated] = 2;

        var report = await CheckAsync();

        Assert.Equal(1, report.Checks[InvariantChecks.CountsConsistent].Violations);
        var detail = Assert.Single(report.Details);
        Assert.Contains("allocated: the store counts 13, a walk of the state finds 11", detail.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_count_that_keeps_moving_is_inconclusive_not_a_violation()
    {
        HealthyPool();
        var n = 100;
        store.BeforeCount = s => s.Put(InMemoryStore.Available($"z{Interlocked.Increment(ref n)}"));   // sync keeps adding

        var report = await CheckAsync();

        Assert.Equal(0, report.Violations);
        Assert.Equal(["available"], report.Checks[InvariantChecks.CountsConsistent].Inconclusive);
    }

    [Fact]
    public async Task A_suspect_that_changed_before_its_confirming_read_is_not_a_violation()
    {
        HealthyPool();
        // The walk sees student-4 holding two sandboxes under one key (b04 released and replaced while it paged) ...
        store.Put(InMemoryStore.Allocated("b44", "student-4"), recordIdempotency: false);
        // ... and an available sandbox with a holder, which is claimed by the time the checker looks again.
        store.Put(InMemoryStore.Available("a99") with { AllocatedTo = "student-q" });
        store.BeforeGet = (s, id) =>
        {
            if (id == "b04")
            {
                s.Put(InMemoryStore.Allocated("b04", "student-4") with { Status = SandboxStatus.PendingDeletion });
                s.Record("student-4", "student-4", "b44");
            }
            else if (id == "a99")
            {
                s.Put(InMemoryStore.Allocated("a99", "student-q"));
            }
        };

        var report = await CheckAsync();

        Assert.True(report.Violations == 0, string.Join("; ", report.Details));
    }

    [Fact]
    public async Task A_pass_sets_the_metric_and_is_remembered_and_callers_arriving_together_share_one_walk()
    {
        HealthyPool();
        store.Put(InMemoryStore.Available("u1") with { AllocatedTo = "student-u" });
        store.ScanDelay = TimeSpan.FromMilliseconds(50);
        using var checker = Checker();
        Assert.Null(checker.LastReport);

        var reports = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => checker.RunOnceAsync(CancellationToken.None)));

        Assert.All(reports, r => Assert.Same(reports[0], r));
        Assert.Equal(12, store.Scans);                                 // one walk: per state (6), one records scan and one history scan
        Assert.Equal(1, metrics.InvariantViolations.Value);
        Assert.Same(reports[0], checker.LastReport);

        store.Put(InMemoryStore.Available("u1"));                      // repaired: the next pass clears the metric
        var next = await checker.RunOnceAsync(CancellationToken.None);
        Assert.NotSame(reports[0], next);
        Assert.Equal(0, metrics.InvariantViolations.Value);
    }

    [Fact]
    public async Task A_store_outage_surfaces_as_store_unavailable_and_leaves_the_last_report()
    {
        HealthyPool();
        using var checker = Checker();
        var healthy = await checker.RunOnceAsync(CancellationToken.None);
        store.FailWith = new StoreUnavailableException("paused");

        await Assert.ThrowsAsync<StoreUnavailableException>(() => checker.RunOnceAsync(CancellationToken.None));

        Assert.Same(healthy, checker.LastReport);
        Assert.Equal(0, metrics.InvariantViolations.Value);
    }

    [Fact]
    public async Task Details_are_capped_but_every_violation_is_counted()
    {
        for (var i = 0; i < InvariantChecker.MaxDetails + 50; i++)
        {
            store.Put(InMemoryStore.Available($"u{i:000}") with { AllocatedTo = "squatter" });
        }

        var report = await CheckAsync();

        Assert.Equal(InvariantChecker.MaxDetails + 50, report.Violations);
        Assert.Equal(InvariantChecker.MaxDetails, report.Details.Count);
    }
}

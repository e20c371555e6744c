using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Invariants;

/// <summary>
/// Walks the store once (every non-tombstone state through <see cref="ISandboxStore.ScanByStatusAsync"/>) and checks
/// the broker's promises: never two sandboxes for one requester and key, every allocated sandbox
/// complete and found again by its holder's replay, holders kept until the tombstone, no holder on an unused sandbox,
/// and the store's counts equal to what the walk finds.
/// <para>
/// It runs on a live pool, so everything it suspects is confirmed with a fresh, strongly consistent read before it
/// counts as a violation (a sandbox released and replaced during the walk is not a fault), and a count that keeps
/// moving is reported as inconclusive rather than as a violation. Used by GET {base}/admin/invariants, by the
/// periodic invariants job (<see cref="RunOnceAsync"/>, every Jobs:Invariants:Interval) and by the GameDay suite.
/// The metric broker_invariant_violations is set by each pass, never computed per scrape.
/// </para>
/// </summary>
public sealed partial class InvariantChecker(
    ISandboxStore store,
    BrokerMetrics metrics,
    TimeProvider time,
    ILogger<InvariantChecker> logger) : IDisposable
{
    /// <summary>At most this many violations are described in <see cref="InvariantReport.Details"/> (all are counted).</summary>
    public const int MaxDetails = 100;

    /// <summary>A pass that takes longer than this is abandoned (<see cref="TimeoutException"/>).</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromMinutes(5);

    /// <summary>How often one state is walked again while its count and its walk disagree.</summary>
    private const int CountAttempts = 3;

    /// <summary>How long after a reservation ended its sandboxes may still be reserved (the job gives them back each 30 s).</summary>
    private const long ReservationGiveBackGrace = 180;

    /// <summary>Point reads in flight at once (idempotency records, confirmations).</summary>
    private const int ReadParallelism = 8;

    private static readonly SandboxStatus[] LiveStates =
    [
        SandboxStatus.Available, SandboxStatus.Allocated, SandboxStatus.PendingDeletion,
        SandboxStatus.DeletionFailed, SandboxStatus.Stale, SandboxStatus.Reserved,
    ];

    private readonly Lock gate = new();
    private readonly CancellationTokenSource disposed = new();
    private Task<InvariantReport>? running;
    private InvariantReport? last;

    /// <summary>The report of the last pass that finished in this process, or null before the first.</summary>
    public InvariantReport? LastReport => Volatile.Read(ref last);

    /// <summary>
    /// One pass for the periodic job and the admin endpoint: joins a pass already running in this process (callers
    /// arriving together share one walk), sets broker_invariant_violations, logs the outcome and keeps the report as
    /// <see cref="LastReport"/>. <paramref name="ct"/> only stops this caller's wait; the shared pass is bounded by
    /// <see cref="MaxDuration"/>. Store failures surface as <see cref="StoreUnavailableException"/>.
    /// </summary>
    public Task<InvariantReport> RunOnceAsync(CancellationToken ct)
    {
        Task<InvariantReport> pass;
        lock (gate)
        {
            if (running is null || running.IsCompleted)
            {
                running = RunSharedAsync();
            }

            pass = running;
        }

        return pass.WaitAsync(ct);
    }

    private async Task<InvariantReport> RunSharedAsync()
    {
        await Task.Yield(); // never walk the store while holding the gate
        using var timeout = new CancellationTokenSource(MaxDuration, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, disposed.Token);
        InvariantReport report;
        try
        {
            report = await CheckAsync(linked.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !disposed.IsCancellationRequested)
        {
            throw new TimeoutException($"the invariant pass did not finish within {MaxDuration}");
        }

        metrics.InvariantViolations.Set(report.Violations);
        Volatile.Write(ref last, report);
        if (report.Violations == 0)
        {
            var sandboxes = report.Counts.Values.Sum();
            LogClean(logger, sandboxes, report.DurationMs);
        }
        else
        {
            var firstFive = string.Join("; ", report.Details.Take(5).Select(d => $"{d.Check}: {d.Detail}"));
            LogViolations(logger, report.Violations, firstFive);
        }

        return report;
    }

    /// <summary>One pass without side effects (no metric, no log, not remembered).</summary>
    public async Task<InvariantReport> CheckAsync(CancellationToken ct)
    {
        var started = time.GetTimestamp();
        var checkedAt = time.GetUtcNow().ToUnixTimeSeconds();
        var findings = new Findings();

        var walk = await WalkAsync(findings, ct);
        var allocated = walk[SandboxStatus.Allocated];
        var doubled = await CheckOneSandboxPerKeyAsync(allocated, findings, ct);
        await CheckAllocatedCompleteAsync(allocated, findings, ct);
        await CheckReplayFindsSandboxAsync(allocated, doubled, findings, ct);
        await CheckHolderRecordedAsync([.. walk[SandboxStatus.PendingDeletion], .. walk[SandboxStatus.DeletionFailed]], findings, ct);
        await CheckUnallocatedUnheldAsync([.. walk[SandboxStatus.Available], .. walk[SandboxStatus.Stale], .. walk[SandboxStatus.Reserved]], findings, ct);
        await CheckReservationsAsync(walk[SandboxStatus.Reserved], checkedAt, findings, ct);
        await CheckHistoriesReplayAsync(findings, ct);

        return findings.ToReport(
            walk.ToDictionary(w => w.Key.ToWire(), w => (long)w.Value.Count, StringComparer.Ordinal),
            checkedAt,
            (long)time.GetElapsedTime(started).TotalMilliseconds);
    }

    // ---- the walk and the counts -----------------------------------------------------------------------------

    /// <summary>
    /// Every non-tombstone state, walked between two counts. A state whose count held still during its walk and equals
    /// it is settled; otherwise it is walked again (up to <see cref="CountAttempts"/> times). A count that held still and
    /// disagreed every time is a violation; one that never held still is inconclusive.
    /// </summary>
    private async Task<Dictionary<SandboxStatus, List<Sandbox>>> WalkAsync(Findings findings, CancellationToken ct)
    {
        var lists = new Dictionary<SandboxStatus, List<Sandbox>>();
        var before = await store.CountAsync(null, ct);
        foreach (var status in LiveStates)
        {
            lists[status] = await ScanAsync(status, ct);
        }

        var after = await store.CountAsync(null, ct);
        var inconclusive = new List<string>();
        foreach (var status in LiveStates)
        {
            var (counted, recounted, list) = (before.Of(status), after.Of(status), lists[status]);
            var settled = false;
            var stableMismatches = 0;
            for (var attempt = 1; ; attempt++)
            {
                if (counted == recounted && counted == list.Count)
                {
                    settled = true;
                    break;
                }

                if (counted == recounted)
                {
                    stableMismatches++;
                }

                if (attempt == CountAttempts)
                {
                    break;
                }

                counted = (await store.CountAsync(null, ct)).Of(status);
                list = await ScanAsync(status, ct);
                recounted = (await store.CountAsync(null, ct)).Of(status);
            }

            lists[status] = list;
            if (settled)
            {
                continue;
            }

            if (stableMismatches == CountAttempts)
            {
                findings.Violation(InvariantChecks.CountsConsistent, null,
                    $"{status.ToWire()}: the store counts {counted}, a walk of the state finds {list.Count}");
            }
            else
            {
                inconclusive.Add(status.ToWire());
            }
        }

        findings.Examined(InvariantChecks.CountsConsistent, LiveStates.Length);
        findings.Inconclusive(InvariantChecks.CountsConsistent, inconclusive);
        return lists;
    }

    private async Task<List<Sandbox>> ScanAsync(SandboxStatus status, CancellationToken ct)
    {
        var list = new List<Sandbox>();
        await foreach (var sandbox in store.ScanByStatusAsync(status, ct))
        {
            // A store must never hand out another state here; if one does, the record belongs to its own state's walk.
            if (sandbox.Status == status)
            {
                list.Add(sandbox);
            }
        }

        return list;
    }

    // ---- allocated sandboxes ---------------------------------------------------------------------------------

    /// <summary>Groups allocated sandboxes by (holder, key); returns the ids in confirmed groups of two or more.</summary>
    private async Task<HashSet<string>> CheckOneSandboxPerKeyAsync(List<Sandbox> allocated, Findings findings, CancellationToken ct)
    {
        findings.Examined(InvariantChecks.OneSandboxPerKey, allocated.Count);
        var doubled = new HashSet<string>(StringComparer.Ordinal);
        var suspects = allocated
            .Where(s => !string.IsNullOrEmpty(s.AllocatedTo) && !string.IsNullOrEmpty(s.IdempotencyKey))
            .GroupBy(s => (Holder: s.AllocatedTo!, Key: s.IdempotencyKey!))
            .Where(g => g.Count() > 1);
        foreach (var group in suspects)
        {
            var confirmed = new List<string>();
            foreach (var sandbox in group)
            {
                var fresh = await store.GetAsync(sandbox.SandboxId, ct);
                if (fresh is { Status: SandboxStatus.Allocated } && fresh.IsHeldBy(group.Key.Holder)
                    && string.Equals(fresh.IdempotencyKey, group.Key.Key, StringComparison.Ordinal))
                {
                    confirmed.Add(fresh.SandboxId);
                }
            }

            if (confirmed.Count > 1)
            {
                doubled.UnionWith(confirmed);
                for (var extra = 1; extra < confirmed.Count; extra++)
                {
                    findings.Violation(InvariantChecks.OneSandboxPerKey, confirmed[extra],
                        $"requester '{group.Key.Holder}' holds {confirmed.Count} allocated sandboxes under idempotency key '{group.Key.Key}': {string.Join(", ", confirmed)}");
                }
            }
        }

        return doubled;
    }

    private async Task CheckAllocatedCompleteAsync(List<Sandbox> allocated, Findings findings, CancellationToken ct)
    {
        findings.Examined(InvariantChecks.AllocatedComplete, allocated.Count);
        foreach (var sandbox in allocated.Where(s => Incomplete(s) is not null))
        {
            var fresh = await store.GetAsync(sandbox.SandboxId, ct);
            if (fresh is { Status: SandboxStatus.Allocated } && Incomplete(fresh) is { } problem)
            {
                findings.Violation(InvariantChecks.AllocatedComplete, fresh.SandboxId, $"allocated sandbox {problem}");
            }
        }
    }

    private static string? Incomplete(Sandbox sandbox)
    {
        var problems = new List<string>();
        if (string.IsNullOrEmpty(sandbox.AllocatedTo))
        {
            problems.Add("has no holder (allocated_to_track)");
        }

        if (string.IsNullOrEmpty(sandbox.IdempotencyKey))
        {
            problems.Add("has no idempotency key");
        }

        if (sandbox.AllocatedAt <= 0)
        {
            problems.Add($"has allocated_at {sandbox.AllocatedAt}");
        }

        return problems.Count == 0 ? null : string.Join(", ", problems);
    }

    /// <summary>
    /// The holder's idempotency record names each allocated sandbox: a replay (same requester and key) returns it
    /// rather than allocating a second one. Sandboxes already reported as doubled are skipped (one fault, one count).
    /// </summary>
    private async Task CheckReplayFindsSandboxAsync(List<Sandbox> allocated, HashSet<string> doubled, Findings findings, CancellationToken ct)
    {
        var candidates = allocated
            .Where(s => Incomplete(s) is null && !doubled.Contains(s.SandboxId))
            .ToList();
        findings.Examined(InvariantChecks.ReplayFindsSandbox, candidates.Count);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = ReadParallelism, CancellationToken = ct };
        await Parallel.ForEachAsync(candidates, parallel, async (sandbox, token) =>
        {
            var holder = sandbox.AllocatedTo!;
            var key = sandbox.IdempotencyKey!;
            var recorded = await store.GetIdempotentSandboxIdAsync(holder, key, token);
            if (string.Equals(recorded, sandbox.SandboxId, StringComparison.Ordinal))
            {
                return;
            }

            // Confirm: still allocated to the same holder and key, and the record still names something else.
            var fresh = await store.GetAsync(sandbox.SandboxId, token);
            if (fresh is not { Status: SandboxStatus.Allocated } || !fresh.IsHeldBy(holder)
                || !string.Equals(fresh.IdempotencyKey, key, StringComparison.Ordinal))
            {
                return;
            }

            recorded = await store.GetIdempotentSandboxIdAsync(holder, key, token);
            if (!string.Equals(recorded, sandbox.SandboxId, StringComparison.Ordinal))
            {
                findings.Violation(InvariantChecks.ReplayFindsSandbox, sandbox.SandboxId,
                    $"allocated to '{holder}' under key '{key}', but that requester and key are recorded for {(recorded is null ? "no sandbox" : $"sandbox {recorded}")}: a replay would not return it");
            }
        });
    }

    // ---- the other states ------------------------------------------------------------------------------------

    private async Task CheckHolderRecordedAsync(List<Sandbox> released, Findings findings, CancellationToken ct)
    {
        findings.Examined(InvariantChecks.HolderRecorded, released.Count);
        foreach (var sandbox in released.Where(s => string.IsNullOrEmpty(s.AllocatedTo)))
        {
            var fresh = await store.GetAsync(sandbox.SandboxId, ct);
            if (fresh is { Status: SandboxStatus.PendingDeletion or SandboxStatus.DeletionFailed } && string.IsNullOrEmpty(fresh.AllocatedTo))
            {
                findings.Violation(InvariantChecks.HolderRecorded, fresh.SandboxId,
                    $"{fresh.Status.ToWire()} sandbox has lost its holder (allocated_to_track is empty)");
            }
        }
    }

    private async Task CheckUnallocatedUnheldAsync(List<Sandbox> unused, Findings findings, CancellationToken ct)
    {
        findings.Examined(InvariantChecks.UnallocatedUnheld, unused.Count);
        foreach (var sandbox in unused.Where(s => !string.IsNullOrEmpty(s.AllocatedTo)))
        {
            var fresh = await store.GetAsync(sandbox.SandboxId, ct);
            if (fresh is { Status: SandboxStatus.Available or SandboxStatus.Stale or SandboxStatus.Reserved } && !string.IsNullOrEmpty(fresh.AllocatedTo))
            {
                findings.Violation(InvariantChecks.UnallocatedUnheld, fresh.SandboxId,
                    $"{fresh.Status.ToWire()} sandbox carries holder '{fresh.AllocatedTo}': it could reach a second participant");
            }
        }
    }

    /// <summary>
    /// Every reserved sandbox belongs to a reservation record for its lab that is active (or ended so recently that the
    /// reservations job has not given it back yet), and no active reservation holds more than it asked for.
    /// </summary>
    private async Task CheckReservationsAsync(List<Sandbox> reserved, long now, Findings findings, CancellationToken ct)
    {
        var reservations = (await store.ListReservationsAsync(ct)).ToDictionary(r => r.ReservationId, StringComparer.Ordinal);
        findings.Examined(InvariantChecks.ReservationsConsistent, reserved.Count + reservations.Count);
        foreach (var sandbox in reserved)
        {
            var owner = sandbox.ReservationId is { } id ? reservations.GetValueOrDefault(id) : null;
            var problem = owner is null ? $"reserved by '{sandbox.ReservationId}', which has no record"
                : owner.TrackName != sandbox.ReservedFor ? $"reserved for '{sandbox.ReservedFor}' but its reservation is for '{owner.TrackName}'"
                : owner.Status != Reservations.Reservation.Active && owner.EndedAt < now - ReservationGiveBackGrace
                    ? $"still held by reservation {owner.ReservationId}, ended at {owner.EndedAt}"
                : null;
            if (problem is not null && await store.GetAsync(sandbox.SandboxId, ct) is { Status: SandboxStatus.Reserved })
            {
                findings.Violation(InvariantChecks.ReservationsConsistent, sandbox.SandboxId, problem);
            }
        }

        foreach (var group in reserved.GroupBy(s => s.ReservationId ?? ""))
        {
            if (reservations.GetValueOrDefault(group.Key) is { } owner && group.Count() > owner.Count)
            {
                findings.Violation(InvariantChecks.ReservationsConsistent, null,
                    $"reservation {owner.ReservationId} holds {group.Count()} sandboxes, more than the {owner.Count} it asked for");
            }
        }
    }

    // ---- histories --------------------------------------------------------------------------------------------

    private async Task CheckHistoriesReplayAsync(Findings findings, CancellationToken ct)
    {
        var examined = 0;
        foreach (var status in LiveStates)
        {
            await foreach (var history in store.ScanHistoriesAsync(status, ct))
            {
                examined++;
                if (Gap(history) is { } gap)
                {
                    findings.Violation(InvariantChecks.HistoryReplays, history.SandboxId, gap);
                }
            }
        }

        findings.Examined(InvariantChecks.HistoryReplays, examined);
    }

    /// <summary>Where a history does not replay to its state, or null. Records from before histories existed have none.</summary>
    internal static string? Gap(SandboxHistory history)
    {
        var events = history.Events;
        for (var i = 1; i < events.Count; i++)
        {
            if (!string.Equals(events[i].From, events[i - 1].To, StringComparison.Ordinal))
            {
                return $"history event {i} starts from {events[i].From ?? "nothing"} but event {i - 1} ended in {events[i - 1].To}";
            }
        }

        return events.Count > 0 && events[^1].To != history.Status.ToWire()
            ? $"history ends in {events[^1].To} but the sandbox is {history.Status.ToWire()}"
            : null;
    }

    public void Dispose()
    {
        disposed.Cancel();
        disposed.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Invariants hold over {Sandboxes} sandboxes ({DurationMs} ms)")]
    private static partial void LogClean(ILogger logger, long sandboxes, long durationMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Invariant violations: {Violations} ({Examples})")]
    private static partial void LogViolations(ILogger logger, int violations, string examples);

    /// <summary>What the checks found, collected from parallel readers.</summary>
    private sealed class Findings
    {
        private static readonly Dictionary<string, string> Descriptions = new(StringComparer.Ordinal)
        {
            [InvariantChecks.OneSandboxPerKey] = "no requester holds two allocated sandboxes under one idempotency key",
            [InvariantChecks.AllocatedComplete] = "every allocated sandbox records its holder, its idempotency key and allocated_at > 0",
            [InvariantChecks.ReplayFindsSandbox] = "every allocated sandbox is the one its holder's idempotency record names (a replay returns it)",
            [InvariantChecks.HolderRecorded] = "every pending_deletion and deletion_failed sandbox still records its holder",
            [InvariantChecks.UnallocatedUnheld] = "no available or stale sandbox carries a holder",
            [InvariantChecks.CountsConsistent] = "the store's count of each state equals a walk of that state",
            [InvariantChecks.ReservationsConsistent] = "every reserved sandbox belongs to an active reservation for its lab, and none holds more than it asked for",
            [InvariantChecks.HistoryReplays] = "every sandbox's history replays to its state: each event starts where the previous one ended, the last ends in the current state",
        };

        private readonly Lock sync = new();
        private readonly Dictionary<string, int> violations = Descriptions.Keys.ToDictionary(k => k, _ => 0, StringComparer.Ordinal);
        private readonly Dictionary<string, long> examined = Descriptions.Keys.ToDictionary(k => k, _ => 0L, StringComparer.Ordinal);
        private readonly Dictionary<string, IReadOnlyList<string>> inconclusive = new(StringComparer.Ordinal);
        private readonly List<InvariantViolation> details = [];

        public void Violation(string check, string? sandboxId, string detail)
        {
            lock (sync)
            {
                violations[check]++;
                if (details.Count < MaxDetails)
                {
                    details.Add(new InvariantViolation(check, sandboxId, detail));
                }
            }
        }

        public void Examined(string check, long count)
        {
            lock (sync)
            {
                examined[check] += count;
            }
        }

        public void Inconclusive(string check, IReadOnlyList<string> what)
        {
            lock (sync)
            {
                inconclusive[check] = what;
            }
        }

        public InvariantReport ToReport(IReadOnlyDictionary<string, long> counts, long checkedAt, long durationMs)
        {
            lock (sync)
            {
                var checks = Descriptions.Keys.ToDictionary(
                    k => k,
                    k => new InvariantCheckResult
                    {
                        Violations = violations[k],
                        Examined = examined[k],
                        Description = Descriptions[k],
                        Inconclusive = inconclusive.GetValueOrDefault(k) ?? [],
                    },
                    StringComparer.Ordinal);
                return new InvariantReport
                {
                    Violations = violations.Values.Sum(),
                    Checks = checks,
                    Details = [.. details],
                    Counts = counts,
                    CheckedAt = checkedAt,
                    DurationMs = durationMs,
                };
            }
        }
    }
}

using SandboxBroker.Api.Reservations;
using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Storage;

/// <summary>
/// The one storage contract. Every state change is a single conditional write on the state it
/// expects; the store never reads a clock (callers pass <c>now</c>). Transient store failures surface as
/// <see cref="StoreUnavailableException"/>; expected outcomes (conflicts, absent records) are result values.
/// Both implementations run the same contract test suite (tests/SandboxBroker.Tests/Storage/StoreContractTests.cs).
/// </summary>
public interface ISandboxStore : ISandboxRecords
{
    /// <summary>Creates tables/schema when needed and checks the store is usable (called once at start-up).</summary>
    Task InitializeAsync(CancellationToken ct);

    /// <summary>A cheap round trip for readiness.</summary>
    Task PingAsync(CancellationToken ct);

    // ---- reads -------------------------------------------------------------------------------------------

    /// <summary>Strongly consistent read of one sandbox, tombstones included; null when there is no record.</summary>
    Task<Sandbox?> GetAsync(string sandboxId, CancellationToken ct);

    /// <summary>A sandbox's history, oldest first, tombstones included; null when there is no record.</summary>
    Task<SandboxHistory?> GetHistoryAsync(string sandboxId, CancellationToken ct);

    /// <summary>The sandbox id recorded for (requester, idempotency key), or null (consistent read; the invariant checks).</summary>
    Task<string?> GetIdempotentSandboxIdAsync(string requester, string idempotencyKey, CancellationToken ct);

    // ---- writes ------------------------------------------------------------------------------------------

    /// <summary>
    /// Runs one allocation plan (see <see cref="AllocationPlan{T}"/>) with this store's claim primitives. The embedded
    /// store queues it for its only writer, which runs the plans queued together in one transaction (each in a savepoint,
    /// so a plan that throws writes nothing) and answers after the commit; a plan cancelled while still queued never
    /// runs. DynamoDB runs it at once, call by call.
    /// </summary>
    Task<T> RunAllocationAsync<T>(AllocationPlan<T> plan, CancellationToken ct);

    /// <summary>One conditional write from <see cref="StateChange.From"/> to <see cref="StateChange.To"/>.</summary>
    Task<TransitionResult> TransitionAsync(StateChange change, CancellationToken ct);

    /// <summary>
    /// Sync's write for one sandbox seen upstream: absent → available (created); stale → available (revived);
    /// available → refreshed (name, external id, sfdc id, last_synced); every other state and every tombstone untouched.
    /// Created and revived records get a history event of <paramref name="cause"/>; a refresh changes no state and gets none.
    /// </summary>
    Task<UpsertOutcome> UpsertFromUpstreamAsync(UpstreamSandbox sandbox, long now, ChangeCause cause, CancellationToken ct);

    /// <summary>
    /// Registers a sandbox as available only when no record with its id exists (any state, tombstones too), its history
    /// starting with the creation event of <paramref name="cause"/>.
    /// </summary>
    Task<bool> RegisterAsync(UpstreamSandbox sandbox, long now, ChangeCause cause, CancellationToken ct);

    /// <summary>Removes a tombstone record for good (only when it is still a tombstone).</summary>
    Task<bool> PurgeTombstoneAsync(string sandboxId, CancellationToken ct);

    // ---- listing and counting ----------------------------------------------------------------------------

    /// <summary>
    /// One page of sandboxes matching the query, in a stable order. <see cref="SandboxQuery.After"/> is a position
    /// token this store issued as <see cref="SandboxPage.Next"/>; a token it cannot parse throws
    /// <see cref="InvalidCursorException"/>. Tombstones are left out unless the status filter asks for them.
    /// Other item types (idempotency, lease, counter items) never appear.
    /// </summary>
    Task<SandboxPage> ListAsync(SandboxQuery query, CancellationToken ct);

    /// <summary>The history of every sandbox in one state (the invariant checks replay them); pages internally.</summary>
    IAsyncEnumerable<SandboxHistory> ScanHistoriesAsync(SandboxStatus status, CancellationToken ct);

    /// <summary>
    /// The history of every sandbox in one state whose record changed at or after <paramref name="since"/> (updated_at),
    /// for the activity view: every event at or after <paramref name="since"/> is in one of them. The default reads every
    /// record of the state and keeps those with such an event; the stores narrow the read by updated_at.
    /// </summary>
    async IAsyncEnumerable<SandboxHistory> ScanHistoriesChangedSinceAsync(
        SandboxStatus status, long since, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var history in ScanHistoriesAsync(status, ct))
        {
            if (history.Events.Any(e => e.At >= since))
            {
                yield return history;
            }
        }
    }

    /// <summary>Exact counts per state at the time of the call, without reading the whole table.</summary>
    Task<PoolCounts> CountAsync(string? namePrefix, CancellationToken ct);

    /// <summary>
    /// Sandboxes allocated at or after <paramref name="since"/> (allocated_at), whatever their state now: the allocation
    /// rate of the capacity view, from an index range count (never a scan).
    /// </summary>
    Task<long> CountAllocatedSinceAsync(string? namePrefix, long since, CancellationToken ct) =>
        throw new NotSupportedException("this store does not count allocations by time");

    // ---- reservations (SPEC 14) -------------------------------------------------------------------------

    /// <summary>Stores a new reservation record; false when its id exists.</summary>
    Task<bool> CreateReservationAsync(Reservation reservation, CancellationToken ct) =>
        throw new NotSupportedException("this store does not keep reservations");

    /// <summary>One reservation record; null when there is none.</summary>
    Task<Reservation?> GetReservationAsync(string reservationId, CancellationToken ct) =>
        throw new NotSupportedException("this store does not keep reservations");

    /// <summary>Every kept reservation record (active and recently ended), newest first.</summary>
    Task<IReadOnlyList<Reservation>> ListReservationsAsync(CancellationToken ct) =>
        throw new NotSupportedException("this store does not keep reservations");

    /// <summary>active → ended, conditional on it being active; false when it was not.</summary>
    Task<bool> EndReservationAsync(string reservationId, long endedAt, CancellationToken ct) =>
        throw new NotSupportedException("this store does not keep reservations");

    /// <summary>The sandboxes a reservation holds now and those handed out from it, read from the sandboxes.</summary>
    Task<ReservationCounts> CountReservationAsync(Reservation reservation, CancellationToken ct) =>
        throw new NotSupportedException("this store does not keep reservations");

    // ---- coordination ------------------------------------------------------------------------------------

    /// <summary>
    /// Takes the run lock of a job when it is free (absent, expired, or already ours) and, when
    /// <see cref="JobLeaseRequest.ExpectedLastRunAt"/> is set, only if the job's last_run_at still equals it
    /// (the compare-and-set that lets one replica run a periodic pass). Sets last_run_at = now on success.
    /// </summary>
    Task<bool> TryAcquireJobLeaseAsync(JobLeaseRequest request, CancellationToken ct);

    /// <summary>Extends a lease this owner holds; false when it is no longer ours.</summary>
    Task<bool> RenewJobLeaseAsync(string job, string owner, long leaseUntil, CancellationToken ct);

    /// <summary>Records the outcome of a pass and releases the lease (only if this owner still holds it).</summary>
    Task CompleteJobAsync(JobCompletion completion, CancellationToken ct);

    Task<JobState?> GetJobStateAsync(string job, CancellationToken ct);

    Task<IReadOnlyList<JobState>> ListJobStatesAsync(CancellationToken ct);

    /// <summary>Writes a run's record (insert or replace); keeps the newest <see cref="JobRun.KeptPerJob"/> runs of its job.</summary>
    Task SaveJobRunAsync(JobRun run, CancellationToken ct);

    /// <summary>One run's record; null when it is not (or no longer) kept.</summary>
    Task<JobRun?> GetJobRunAsync(string runId, CancellationToken ct);

    /// <summary>A job's newest runs, newest first.</summary>
    Task<IReadOnlyList<JobRun>> ListJobRunsAsync(string job, int limit, CancellationToken ct);
}

using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Storage;

/// <summary>
/// The one storage contract (SPEC section 2). Every state change is a single conditional write on the state it
/// expects; the store never reads a clock (callers pass <c>now</c>). Transient store failures surface as
/// <see cref="StoreUnavailableException"/>; expected outcomes (conflicts, absent records) are result values.
/// Both implementations run the same contract test suite (tests/SandboxBroker.Tests/Storage/StoreContractTests.cs).
/// </summary>
public interface ISandboxStore
{
    /// <summary>Creates tables/schema when needed and checks the store is usable (called once at start-up).</summary>
    Task InitializeAsync(CancellationToken ct);

    /// <summary>A cheap round trip for readiness.</summary>
    Task PingAsync(CancellationToken ct);

    // ---- reads -------------------------------------------------------------------------------------------

    /// <summary>Strongly consistent read of one sandbox, tombstones included; null when there is no record.</summary>
    Task<Sandbox?> GetAsync(string sandboxId, CancellationToken ct);

    /// <summary>
    /// Up to <paramref name="limit"/> available sandboxes whose name starts with <paramref name="namePrefix"/>
    /// (any name when null), taken from a randomly placed window of the available pool so concurrent callers
    /// mostly see different candidates. Empty only when no available sandbox matches at all.
    /// </summary>
    Task<IReadOnlyList<Sandbox>> FindAvailableAsync(string? namePrefix, int limit, CancellationToken ct);

    /// <summary>The sandbox id recorded for (requester, idempotency key), or null (consistent read).</summary>
    Task<string?> GetIdempotentSandboxIdAsync(string requester, string idempotencyKey, CancellationToken ct);

    // ---- writes ------------------------------------------------------------------------------------------

    /// <summary>
    /// available → allocated for one candidate, atomically with the (requester, key) idempotency record:
    /// the record must be absent (<see cref="ClaimRequest.ReplacesSandboxId"/> null) or still point at
    /// <see cref="ClaimRequest.ReplacesSandboxId"/> (the requester's released sandbox).
    /// </summary>
    Task<ClaimResult> TryClaimAsync(ClaimRequest request, CancellationToken ct);

    /// <summary>One conditional write from <see cref="StateChange.From"/> to <see cref="StateChange.To"/>.</summary>
    Task<TransitionResult> TransitionAsync(StateChange change, CancellationToken ct);

    /// <summary>
    /// Sync's write for one sandbox seen upstream: absent → available (created); stale → available (revived);
    /// available → refreshed (name, external id, sfdc id, last_synced); every other state and every tombstone untouched.
    /// </summary>
    Task<UpsertOutcome> UpsertFromUpstreamAsync(UpstreamSandbox sandbox, long now, CancellationToken ct);

    /// <summary>Registers a sandbox as available only when no record with its id exists (any state, tombstones too).</summary>
    Task<bool> RegisterAsync(UpstreamSandbox sandbox, long now, CancellationToken ct);

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

    /// <summary>Every sandbox in one state (workers walk these); pages internally.</summary>
    IAsyncEnumerable<Sandbox> ScanByStatusAsync(SandboxStatus status, CancellationToken ct);

    /// <summary>Exact counts per state at the time of the call, without reading the whole table.</summary>
    Task<PoolCounts> CountAsync(string? namePrefix, CancellationToken ct);

    // ---- coordination ------------------------------------------------------------------------------------

    /// <summary>Atomically adds <paramref name="delta"/> to a named counter and returns the new value (0 delta reads).</summary>
    Task<long> AddToSequenceAsync(string name, long delta, CancellationToken ct);

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
}

using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Storage;

/// <summary>
/// A store's primitives for one allocation. The allocation policy (Allocation/AllocationPolicy) is written once
/// against them and handed to <see cref="ISandboxStore.RunAllocationAsync{T}"/>; how they run is the store's business:
/// the embedded store runs a whole plan inside one transaction on its only writer, DynamoDB runs it call by call while
/// other replicas run theirs, and the claim's conditions decide every race.
/// </summary>
public interface IAllocationSession
{
    /// <summary>The sandbox id recorded for (requester, idempotency key), or null (a consistent read).</summary>
    ValueTask<string?> ReadKeyAsync(string requester, string idempotencyKey, CancellationToken ct);

    /// <summary>One sandbox, tombstones included; null when there is no record (a consistent read).</summary>
    ValueTask<Sandbox?> ReadAsync(string sandboxId, CancellationToken ct);

    /// <summary>
    /// Ids of up to <see cref="CandidateQuery.Limit"/> sandboxes a claim may take, from a window of the pool placed so
    /// that concurrent callers mostly see different candidates. Empty only when no sandbox matches at all.
    /// </summary>
    ValueTask<IReadOnlyList<string>> FindCandidatesAsync(CandidateQuery query, CancellationToken ct);

    /// <summary>
    /// available → allocated for one candidate, atomically with the (requester, key) idempotency record: the record
    /// must be absent (<see cref="ClaimRequest.ReplacesSandboxId"/> null) or still name
    /// <see cref="ClaimRequest.ReplacesSandboxId"/> (the requester's released sandbox).
    /// </summary>
    ValueTask<ClaimResult> TryClaimAsync(ClaimRequest request, CancellationToken ct);
}

/// <summary>
/// One allocation's steps over a store's primitives. A plan may run inside a store transaction, so it must not wait on
/// anything but the session (the embedded store refuses a plan that does). Each claim is atomic on its own; on the
/// embedded store a plan that throws also takes back the claims it made, on DynamoDB they stand, so a plan returns as
/// soon as it holds a sandbox.
/// </summary>
public delegate ValueTask<T> AllocationPlan<T>(IAllocationSession session, CancellationToken ct);

/// <summary>
/// Which candidates to read: sandboxes whose name starts with <see cref="NamePrefix"/> (any when null); available ones,
/// or, with <see cref="ReservedFor"/>, the ones reserved for that lab.
/// </summary>
public sealed record CandidateQuery(string? NamePrefix, int Limit, string? ReservedFor = null);

using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Allocation;

/// <summary>Expected outcomes of allocation, mapped to HTTP in one place (<see cref="TrackResults"/>).</summary>
public abstract record AllocationOutcome
{
    private AllocationOutcome() { }

    /// <summary>A new sandbox (201). <paramref name="AfterRelease"/>: the same requester and key had released an earlier one.</summary>
    public sealed record Allocated(Sandbox Sandbox, bool AfterRelease) : AllocationOutcome;

    /// <summary>The sandbox this requester and key already hold (200).</summary>
    public sealed record Replayed(Sandbox Sandbox) : AllocationOutcome;

    /// <summary>No available sandbox matches (409).</summary>
    public sealed record PoolEmpty : AllocationOutcome;

    /// <summary>This requester and key hold a sandbox allocated through a token of another name (403 NOT_SANDBOX_OWNER).</summary>
    public sealed record HeldViaAnotherToken : AllocationOutcome;

    /// <summary>The token's quota of new allocations this minute is used up (429 with Retry-After).</summary>
    public sealed record QuotaExceeded(string TokenName, int RetryAfterSeconds) : AllocationOutcome;

    /// <summary>Allocation is switched off for maintenance (Broker:AllocationEnabled=false): 503 MAINTENANCE.</summary>
    public sealed record Maintenance : AllocationOutcome;

    /// <summary>Time budget spent or store unavailable (503, Retry-After: 1).</summary>
    public sealed record Unavailable(string Reason) : AllocationOutcome;
}

/// <summary>Outcomes of the holder's actions on one sandbox (GET, mark-for-deletion).</summary>
public abstract record HolderOutcome
{
    private HolderOutcome() { }

    public sealed record Ok(Sandbox Sandbox) : HolderOutcome;

    /// <summary>mark-for-deletion when it was already marked (still 200).</summary>
    public sealed record Repeat(Sandbox Sandbox) : HolderOutcome;

    public sealed record NotFound : HolderOutcome;

    public sealed record NotOwner : HolderOutcome;

    /// <summary>extend from a state other than allocated (409 INVALID_STATE).</summary>
    public sealed record InvalidState(Sandbox Sandbox) : HolderOutcome;

    /// <summary>extend when the lease already reaches allocated_at + Broker:MaxLeaseDuration (409 LEASE_LIMIT_REACHED).</summary>
    public sealed record LeaseLimitReached(Sandbox Sandbox) : HolderOutcome;
}

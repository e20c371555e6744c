using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Storage;

/// <summary>
/// A store whose every write goes through one writer in this process (the embedded SQLite store) runs a whole
/// allocation as one transaction on that writer: the idempotency read, the replay check, the K-candidate window at a
/// random point of the pool, the random pick, and the conditional claim (status = available) together with its
/// idempotency record. Nothing can race a claim there, so none is ever lost, and every read comes from the writer's
/// warm page cache (a reader connection's cache is dropped by every commit, which made reads the dominant cost under
/// a burst). <see cref="Allocation.AllocationService"/> uses it when the store offers it; other stores (DynamoDB, and
/// any wrapper) take the read-then-claim path.
/// </summary>
internal interface ISingleWriterAllocation
{
    Task<SingleWriterAllocation> AllocateAsync(SingleWriterAllocationRequest request, CancellationToken ct);
}

internal sealed record SingleWriterAllocationRequest
{
    public required string Requester { get; init; }
    public required string IdempotencyKey { get; init; }
    public string? TrackName { get; init; }
    public string? NamePrefix { get; init; }
    public required int CandidateCount { get; init; }
    public required long Now { get; init; }
    public required long ExpiresAt { get; init; }
    public required double LabDurationHours { get; init; }
}

internal abstract record SingleWriterAllocation
{
    private SingleWriterAllocation() { }

    /// <summary>The requester and key already hold this allocated sandbox (a replay).</summary>
    public sealed record Held(Sandbox Sandbox) : SingleWriterAllocation;

    /// <summary>Newly claimed; <paramref name="AfterRelease"/> when the key had named a sandbox released since.</summary>
    public sealed record Claimed(Sandbox Sandbox, bool AfterRelease) : SingleWriterAllocation;

    /// <summary>No available sandbox matches the name prefix.</summary>
    public sealed record PoolEmpty : SingleWriterAllocation;
}

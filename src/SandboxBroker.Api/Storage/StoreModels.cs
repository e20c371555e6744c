using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Storage;

public sealed record ClaimRequest
{
    public required string SandboxId { get; init; }
    public required string Requester { get; init; }
    public required string IdempotencyKey { get; init; }
    public string? TrackName { get; init; }

    /// <summary>The allocating token's name, stored as allocated_via: only that name's requests reach the sandbox.</summary>
    public string? AllocatedVia { get; init; }
    public required long Now { get; init; }
    public required long ExpiresAt { get; init; }
    public required double LabDurationHours { get; init; }
    /// <summary>Null: the idempotency record must not exist. Otherwise it must still name this (released) sandbox.</summary>
    public string? ReplacesSandboxId { get; init; }

    /// <summary>The track request's actor and request id, for the history event the claim writes.</summary>
    public required ChangeCause Cause { get; init; }

    /// <summary>Set: the candidate is reserved for this lab (reserved → allocated); null: it is available.</summary>
    public string? ReservedFor { get; init; }

    /// <summary>The history event a successful claim appends (available → allocated).</summary>
    public SandboxEvent Event() => new()
    {
        At = Now,
        From = ReservedFor is null ? SandboxStatusNames.Available : SandboxStatusNames.Reserved,
        To = SandboxStatusNames.Allocated,
        Actor = Cause.Actor,
        Reason = Cause.Reason,
        RequestId = Cause.RequestId,
        Requester = Requester,
        TrackName = TrackName,
    };
}

public abstract record ClaimResult
{
    private ClaimResult() { }

    /// <summary>The candidate is now allocated to the requester.</summary>
    public sealed record Claimed(Sandbox Sandbox) : ClaimResult;

    /// <summary>
    /// The candidate was no longer available (someone else claimed it, or it changed state). WindowStale: the store
    /// learnt it only from a failed write, so the window it came from was read before another process's claim and the
    /// rest of it is as old; false when the store knew without writing (this process had just claimed it).
    /// </summary>
    public sealed record SandboxTaken(bool WindowStale = true) : ClaimResult;

    /// <summary>The idempotency record changed under us: a concurrent call of this requester and key won.</summary>
    public sealed record KeyTaken(string? CurrentSandboxId) : ClaimResult;
}

public enum UpsertOutcome
{
    Created,
    Revived,
    Refreshed,
    Untouched,
}

public sealed record SandboxQuery
{
    public SandboxStatus? Status { get; init; }
    public string? NamePrefix { get; init; }
    public string? TrackName { get; init; }
    public string? Requester { get; init; }
    public int Limit { get; init; } = 50;
    /// <summary>A position token from a previous page of this store, or null for the first page.</summary>
    public string? After { get; init; }
}

public sealed record SandboxPage(IReadOnlyList<Sandbox> Items, string? Next);

public sealed record PoolCounts(
    long Available,
    long Allocated,
    long PendingDeletion,
    long DeletionFailed,
    long Stale,
    long? Deleted,
    long Reserved = 0)
{
    // Deleted: null when the store does not count tombstones (DynamoDB: a count reads every tombstone; list them with
    // status=deleted instead). SPEC 4: stats leave tombstones out.

    /// <summary>Tombstones whose account no sync has yet confirmed gone upstream (SPEC 12; counted among Deleted).</summary>
    public long UnverifiedDeletions { get; init; }

    /// <summary>Every sandbox that is not a tombstone.</summary>
    public long Total => Available + Allocated + PendingDeletion + DeletionFailed + Stale + Reserved;

    public long Of(SandboxStatus status) => status switch
    {
        SandboxStatus.Available => Available,
        SandboxStatus.Allocated => Allocated,
        SandboxStatus.PendingDeletion => PendingDeletion,
        SandboxStatus.DeletionFailed => DeletionFailed,
        SandboxStatus.Stale => Stale,
        SandboxStatus.Deleted => Deleted ?? 0,
        SandboxStatus.Reserved => Reserved,
        _ => 0,
    };
}

public sealed record JobLeaseRequest
{
    public required string Job { get; init; }
    public required string Owner { get; init; }
    public required long Now { get; init; }
    public required long LeaseUntil { get; init; }
    /// <summary>When set, the lease is taken only while the job's last_run_at equals this (0 = never ran).</summary>
    public long? ExpectedLastRunAt { get; init; }

    /// <summary>The run the lease is taken for: recorded as the job's current run (a busy trigger points at it).</summary>
    public string? RunId { get; init; }
}

public sealed record JobCompletion
{
    public required string Job { get; init; }
    public required string Owner { get; init; }
    public required long FinishedAt { get; init; }
    public required string Outcome { get; init; }
    public required long DurationMs { get; init; }
    public required bool Succeeded { get; init; }
}

public sealed record JobState
{
    public required string Job { get; init; }
    public string? LeaseOwner { get; init; }
    public long LeaseExpiresAt { get; init; }
    public long LastRunAt { get; init; }
    public long? LastFinishedAt { get; init; }
    public string? LastOutcome { get; init; }
    public long? LastDurationMs { get; init; }
    public long? LastSuccessAt { get; init; }

    /// <summary>The run that took the lease last (running while the lease is held).</summary>
    public string? CurrentRunId { get; init; }
}

/// <summary>
/// One pass of a job, scheduled or triggered, as stored so any replica can answer for it: created when the pass
/// starts, updated with its counts while it runs and with its outcome when it ends. The store keeps the newest
/// <see cref="KeptPerJob"/> runs of each job.
/// </summary>
public sealed record JobRun
{
    public const int KeptPerJob = 20;

    public required string RunId { get; init; }
    public required string Job { get; init; }

    /// <summary>schedule or admin.</summary>
    public required string Trigger { get; init; }

    /// <summary>The broker instance that runs it.</summary>
    public required string Instance { get; init; }

    public required long StartedAt { get; init; }
    public long? FinishedAt { get; init; }
    public string? Outcome { get; init; }
    public long UpdatedAt { get; init; }

    /// <summary>examined, changed, failed, skipped, and the job's own (deleted, marked_stale, expired ...).</summary>
    public IReadOnlyDictionary<string, long> Counts { get; init; } = new Dictionary<string, long>();
}

namespace SandboxBroker.Api.Sandboxes;

/// <summary>
/// One sandbox record as the domain sees it. Times are epoch seconds, as on the wire and in the store.
/// <see cref="AllocatedTo"/> is the requester (participant) id; the original named it allocated_to_track.
/// </summary>
public sealed record Sandbox
{
    /// <summary>The original's lab duration: what a record carries until it is allocated, and Broker:LabDuration's default.</summary>
    public const double DefaultLabDurationHours = 4;

    public required string SandboxId { get; init; }
    public required string Name { get; init; }
    public required string ExternalId { get; init; }
    public required SandboxStatus Status { get; init; }
    public string? AllocatedTo { get; init; }
    /// <summary>0 while never allocated (it is a GSI sort key on DynamoDB).</summary>
    public long AllocatedAt { get; init; }
    public string? IdempotencyKey { get; init; }
    public string? TrackName { get; init; }
    public long? ExpiresAt { get; init; }
    public double LabDurationHours { get; init; }
    public long? DeletionRequestedAt { get; init; }
    public int DeletionRetryCount { get; init; }
    public string? LastError { get; init; }
    public long? NextAttemptAt { get; init; }
    public long? LastSynced { get; init; }
    public long CreatedAt { get; init; }
    public long UpdatedAt { get; init; }
    public string? SfdcAccountId { get; init; }
    public long? DeletedAt { get; init; }

    /// <summary>The name of the token that allocated it (SPEC 11.3); null on records allocated before names existed.</summary>
    public string? AllocatedVia { get; init; }
    /// <summary>When a sync confirmed the deleted account absent upstream (SPEC 12); null on an unverified tombstone.</summary>
    public long? DeletionVerifiedAt { get; init; }

    /// <summary>The original's NIOSXaaS attributes: when the pre-delete step cleaned the account (never cleaned twice).</summary>
    public long? NiosxaasCleanedAt { get; init; }

    /// <summary>The step found no matching service.</summary>
    public bool NiosxaasCleanupSkipped { get; init; }

    public string? NiosxaasCleanupFailedReason { get; init; }

    /// <summary>A tombstone whose account no sync has yet confirmed gone upstream.</summary>
    public bool IsUnverifiedDeletion => IsTombstone && DeletedAt is not null && DeletionVerifiedAt is null;
    /// <summary>The reservation that holds (reserved) or held (allocated from it) this sandbox (SPEC 14).</summary>
    public string? ReservationId { get; init; }

    /// <summary>While reserved: the lab (track_name) the sandbox is held for; only its allocations may take it.</summary>
    public string? ReservedFor { get; init; }

    public bool IsTombstone => Status == SandboxStatus.Deleted;

    /// <summary>
    /// When the lease ends: the stored expires_at, or allocated_at + lab_duration_hours on items the original wrote
    /// (it stored no expires_at); 0 for a sandbox never allocated.
    /// </summary>
    public long LeaseExpiresAt => ExpiresAt ?? (AllocatedAt > 0 ? AllocatedAt + (long)(LabDurationHours * 3600) : 0);

    /// <summary>An allocated sandbox whose lease ended more than <paramref name="grace"/> before <paramref name="now"/>.</summary>
    public bool IsOverdue(long now, TimeSpan grace) =>
        Status == SandboxStatus.Allocated && AllocatedTo is not null && LeaseExpiresAt > 0 && LeaseExpiresAt + (long)grace.TotalSeconds <= now;

    public bool IsHeldBy(string requester) =>
        !IsTombstone && AllocatedTo is not null && string.Equals(AllocatedTo, requester, StringComparison.Ordinal);

    /// <summary>
    /// Held by this requester through a token of this name. A record without allocated_via (allocated before token
    /// names were recorded) answers to its requester with any track token, so a rolling deploy breaks no running lab.
    /// </summary>
    public bool IsHeldBy(string requester, string tokenName) =>
        IsHeldBy(requester) && (AllocatedVia is null || string.Equals(AllocatedVia, tokenName, StringComparison.Ordinal));
}

namespace SandboxBroker.Api.Sandboxes;

/// <summary>
/// A conditional transition. Conditions: the record exists, is in <see cref="From"/>, and (when set) is held by
/// <see cref="RequireHolder"/> and has <see cref="RequireRetryCount"/> attempts. Set fields are written, null
/// fields are left as they are; <see cref="ClearLastError"/> and <see cref="ClearNextAttempt"/> remove them.
/// updated_at is always set to <see cref="Now"/>. When it applies, <see cref="SandboxEvent.Of"/> of it is appended to
/// the sandbox's history in the same write; <see cref="From"/> = <see cref="To"/> records a step without a state change.
/// </summary>
public sealed record StateChange
{
    public required string SandboxId { get; init; }
    public required SandboxStatus From { get; init; }
    public required SandboxStatus To { get; init; }
    public required long Now { get; init; }

    /// <summary>Who or what makes the change: its history event's actor, request id and reason.</summary>
    public required ChangeCause Cause { get; init; }

    public string? RequireHolder { get; init; }

    /// <summary>With <see cref="RequireHolder"/>: allocated through a token of this name, or before names were recorded.</summary>
    public string? RequireAllocatedVia { get; init; }

    public int? RequireRetryCount { get; init; }

    /// <summary>Applies only while updated_at is at or before this time: nothing touched the record since it was judged old.</summary>
    public long? RequireUpdatedAtOrBefore { get; init; }

    /// <summary>Only while deletion_verified_at is unset (a tombstone no sync has confirmed yet).</summary>
    public bool RequireUnverified { get; init; }
    /// <summary>When set, the write holds only while expires_at is still this value (0: no expires_at stored).</summary>
    public long? RequireExpiresAt { get; init; }

    public long? ExpiresAt { get; init; }

    /// <summary>When set, the write holds only while the sandbox carries this reservation id.</summary>
    public string? RequireReservationId { get; init; }

    /// <summary>A hold (available → reserved): the reservation and the lab it is for.</summary>
    public string? ReservationId { get; init; }
    public string? ReservedFor { get; init; }

    /// <summary>Removes reservation_id and reserved_for (a hold given back, or a reserved sandbox gone stale).</summary>
    public bool ClearReservation { get; init; }

    public long? DeletionRequestedAt { get; init; }
    public int? DeletionRetryCount { get; init; }
    public string? LastError { get; init; }
    public bool ClearLastError { get; init; }
    public long? NextAttemptAt { get; init; }
    public bool ClearNextAttempt { get; init; }
    public long? DeletedAt { get; init; }
    public bool ClearDeletedAt { get; init; }
    public long? DeletionVerifiedAt { get; init; }

    /// <summary>The NIOSXaaS pre-delete step's outcome, written as the sandbox's niosxaas_* attributes.</summary>
    public NiosXaasMark? NiosXaas { get; init; }
}

/// <summary>
/// The original's niosxaas_* attributes as one step writes them: <see cref="CleanedAt"/> set when the step is done
/// (null leaves it), <see cref="Skipped"/> and <see cref="FailedReason"/> replaced (false and null remove them).
/// </summary>
public sealed record NiosXaasMark(long? CleanedAt, bool Skipped, string? FailedReason);

public abstract record TransitionResult
{
    private TransitionResult() { }

    public sealed record Applied(Sandbox Sandbox) : TransitionResult;

    public sealed record NotFound : TransitionResult;

    /// <summary>The condition did not hold; <see cref="Current"/> is the record as it is now.</summary>
    public sealed record Conflict(Sandbox Current) : TransitionResult;
}

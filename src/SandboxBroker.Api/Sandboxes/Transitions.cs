namespace SandboxBroker.Api.Sandboxes;

/// <summary>
/// The lifecycle's transitions, each as the one conditional write that performs it. Every code path that changes a
/// sandbox's state (track requests, admin repairs, workers) takes its change from here, so a rule such as "a released
/// sandbox is due for deletion at once" is written once.
/// </summary>
public static class Transitions
{
    /// <summary>
    /// allocated → pending_deletion, due for deletion now: the holder's mark-for-deletion, an admin release or
    /// auto-expiry. <paramref name="holder"/>: the write holds only while this requester still holds it (null: anyone).
    /// </summary>
    public static StateChange Release(string sandboxId, long now, string? holder, ChangeCause cause, string? via = null) => new()
    {
        SandboxId = sandboxId,
        From = SandboxStatus.Allocated,
        To = SandboxStatus.PendingDeletion,
        Now = now,
        Cause = cause,
        RequireHolder = holder,
        RequireAllocatedVia = via,
        DeletionRequestedAt = now,
        NextAttemptAt = now,
    };

    /// <summary>pending_deletion → deleted once the CSP confirmed the delete (2xx or 404): the tombstone.</summary>
    public static StateChange Deleted(string sandboxId, long now, ChangeCause cause) => new()
    {
        SandboxId = sandboxId,
        From = SandboxStatus.PendingDeletion,
        To = SandboxStatus.Deleted,
        Now = now,
        Cause = cause,
        DeletedAt = now,
        ClearNextAttempt = true,
        ClearLastError = true,
    };

    /// <summary>
    /// A failed delete attempt, counted on the attempt count that was read (so two passes never count one attempt
    /// twice): still pending with the error and the next attempt time, or deletion_failed once attempts are exhausted.
    /// </summary>
    public static StateChange DeleteAttemptFailed(
        Sandbox sandbox, long now, string error, int maxAttempts, TimeSpan backoff, ChangeCause cause)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        var attempt = sandbox.DeletionRetryCount + 1;
        var exhausted = attempt >= maxAttempts;
        return new StateChange
        {
            SandboxId = sandbox.SandboxId,
            From = SandboxStatus.PendingDeletion,
            To = exhausted ? SandboxStatus.DeletionFailed : SandboxStatus.PendingDeletion,
            Now = now,
            Cause = cause,
            RequireRetryCount = sandbox.DeletionRetryCount,
            DeletionRetryCount = attempt,
            LastError = error,
            NextAttemptAt = exhausted ? null : now + (long)Math.Ceiling(backoff.TotalSeconds),
            ClearNextAttempt = exhausted,
        };
    }

    /// <summary>An unverified tombstone whose account a sync found absent upstream: verified (SPEC 12).</summary>
    public static StateChange VerifyDeletion(string sandboxId, long now, ChangeCause cause) => new()
    {
        SandboxId = sandboxId,
        From = SandboxStatus.Deleted,
        To = SandboxStatus.Deleted,
        Now = now,
        Cause = cause,
        RequireUnverified = true,
        DeletionVerifiedAt = now,
    };

    /// <summary>
    /// An unverified tombstone still listed upstream Jobs:Cleanup:VerifyWithin after its delete: the delete did not
    /// stick, so it counts as a failed attempt and the sandbox is due for deletion again (deletion_failed once attempts
    /// are exhausted). Never back to available.
    /// </summary>
    public static StateChange StillListedUpstream(Sandbox tombstone, long now, int maxAttempts, ChangeCause cause)
    {
        ArgumentNullException.ThrowIfNull(tombstone);
        var attempt = tombstone.DeletionRetryCount + 1;
        var exhausted = attempt >= maxAttempts;
        return new StateChange
        {
            SandboxId = tombstone.SandboxId,
            From = SandboxStatus.Deleted,
            To = exhausted ? SandboxStatus.DeletionFailed : SandboxStatus.PendingDeletion,
            Now = now,
            Cause = cause,
            RequireUnverified = true,
            RequireRetryCount = tombstone.DeletionRetryCount,
            DeletionRetryCount = attempt,
            LastError = StillListedError,
            NextAttemptAt = exhausted ? null : now,
            ClearNextAttempt = exhausted,
            ClearDeletedAt = true,
        };
    }

    public const string StillListedError = "still listed upstream after its delete";

    /// <summary>
    /// The NIOSXaaS pre-delete step's outcome on a pending_deletion sandbox (no state change): its attributes and its
    /// history event in one write.
    /// </summary>
    public static StateChange NiosXaasStep(string sandboxId, long now, NiosXaasMark mark, ChangeCause cause) => new()
    {
        SandboxId = sandboxId,
        From = SandboxStatus.PendingDeletion,
        To = SandboxStatus.PendingDeletion,
        Now = now,
        Cause = cause,
        NiosXaas = mark,
    };

    /// <summary>deletion_failed → pending_deletion with a fresh attempt budget, due now (an operator's retry).</summary>
    public static StateChange RetryDeletion(string sandboxId, long now, ChangeCause cause) => new()
    {
        SandboxId = sandboxId,
        From = SandboxStatus.DeletionFailed,
        To = SandboxStatus.PendingDeletion,
        Now = now,
        Cause = cause,
        DeletionRetryCount = 0,
        ClearLastError = true,
        NextAttemptAt = now,
    };

    /// <summary>
    /// stale or deletion_failed → deleted without calling the CSP: an operator's bulk delete (after removing the
    /// account upstream by hand) or the stale purge.
    /// </summary>
    public static StateChange Tombstone(string sandboxId, SandboxStatus from, long now, ChangeCause cause, long? untouchedSince = null) => new()
    {
        SandboxId = sandboxId,
        From = from,
        To = SandboxStatus.Deleted,
        Now = now,
        Cause = cause,
        DeletedAt = now,
        RequireUpdatedAtOrBefore = untouchedSince,
    };

    /// <summary>
    /// A step that changes no state but belongs in the sandbox's history (e.g. a lease extension): written only while
    /// the sandbox is in <paramref name="status"/>.
    /// </summary>
    public static StateChange Note(string sandboxId, SandboxStatus status, long now, ChangeCause cause) => new()
    {
        SandboxId = sandboxId,
        From = status,
        To = status,
        Now = now,
        Cause = cause,
    };

    /// <summary>
    /// A lease extension: allocated stays allocated with a new expires_at, written only while the holder still holds it
    /// and its expires_at is still the one read (so two extensions never both add to the same value).
    /// </summary>
    public static StateChange Extend(Sandbox sandbox, long newExpiresAt, string holder, long now, ChangeCause cause, string? via = null)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        return new StateChange
        {
            SandboxId = sandbox.SandboxId,
            From = SandboxStatus.Allocated,
            To = SandboxStatus.Allocated,
            Now = now,
            Cause = cause with { Reason = $"lease extended to {newExpiresAt}" },
            RequireHolder = holder,
            RequireAllocatedVia = via,
            RequireExpiresAt = sandbox.ExpiresAt ?? 0,
            ExpiresAt = newExpiresAt,
        };
    }

    /// <summary>
    /// stale → available: sync sees it upstream again. The store performs it within sync's upsert (which also refreshes
    /// the upstream fields); this describes its history event.
    /// </summary>
    public static StateChange Revive(string sandboxId, long now, ChangeCause cause) => new()
    {
        SandboxId = sandboxId,
        From = SandboxStatus.Stale,
        To = SandboxStatus.Available,
        Now = now,
        Cause = cause,
    };

    /// <summary>
    /// available (or reserved) → stale: sync no longer sees it upstream. A reserved one leaves its reservation (whose
    /// held count drops).
    /// </summary>
    public static StateChange MarkStale(string sandboxId, long now, ChangeCause cause, SandboxStatus from = SandboxStatus.Available) => new()
    {
        SandboxId = sandboxId,
        From = from,
        To = SandboxStatus.Stale,
        Now = now,
        Cause = cause,
        ClearReservation = from == SandboxStatus.Reserved,
    };

    /// <summary>available → reserved: a reservation holds the sandbox for one lab.</summary>
    public static StateChange Hold(string sandboxId, string reservationId, string trackName, long now, ChangeCause cause) => new()
    {
        SandboxId = sandboxId,
        From = SandboxStatus.Available,
        To = SandboxStatus.Reserved,
        Now = now,
        Cause = cause with { TrackName = trackName, Reason = cause.Reason ?? $"held by reservation {reservationId}" },
        ReservationId = reservationId,
        ReservedFor = trackName,
    };

    /// <summary>reserved → available: the reservation ended (or was refused) and gives the unused sandbox back.</summary>
    public static StateChange Unhold(string sandboxId, string reservationId, long now, ChangeCause cause) => new()
    {
        SandboxId = sandboxId,
        From = SandboxStatus.Reserved,
        To = SandboxStatus.Available,
        Now = now,
        Cause = cause with { Reason = cause.Reason ?? $"released by reservation {reservationId}" },
        RequireReservationId = reservationId,
        ClearReservation = true,
    };
}

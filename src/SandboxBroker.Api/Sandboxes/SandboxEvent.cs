namespace SandboxBroker.Api.Sandboxes;

/// <summary>
/// One entry of a sandbox's history, written in the same atomic write as the change it records. A state change has
/// <see cref="From"/> ≠ <see cref="To"/>; a step that changes no state but matters to an operator (a failed delete
/// attempt, a lease extension) has both equal; the write that creates the record has no <see cref="From"/>.
/// </summary>
public sealed record SandboxEvent
{
    /// <summary>The newest events a sandbox keeps; older ones are dropped as new ones arrive.</summary>
    public const int MaxPerSandbox = 100;

    public required long At { get; init; }
    public string? From { get; init; }
    public required string To { get; init; }

    /// <summary>track:&lt;token name&gt;, admin:&lt;token name&gt;, job:&lt;job&gt; or registration; never a token.</summary>
    public required string Actor { get; init; }

    public string? Reason { get; init; }
    public string? RequestId { get; init; }
    public string? Requester { get; init; }
    public string? TrackName { get; init; }
    public int? Attempt { get; init; }
    public string? Error { get; init; }
    public long? NextAttemptAt { get; init; }

    /// <summary>The event of a conditional transition, as the store writes it when the change applies.</summary>
    public static SandboxEvent Of(StateChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var cause = change.Cause;
        return new SandboxEvent
        {
            At = change.Now,
            From = change.From.ToWire(),
            To = change.To.ToWire(),
            Actor = cause.Actor,
            Reason = cause.Reason,
            RequestId = cause.RequestId,
            Requester = cause.Requester ?? change.RequireHolder,
            TrackName = cause.TrackName,
            Attempt = change.LastError is not null ? change.DeletionRetryCount : null,
            Error = change.LastError,
            NextAttemptAt = change.LastError is not null ? change.NextAttemptAt : null,
        };
    }

    /// <summary>The event of a record created as available (registration, or sync finding it upstream).</summary>
    public static SandboxEvent Created(ChangeCause cause, long now)
    {
        ArgumentNullException.ThrowIfNull(cause);
        return new SandboxEvent
        {
            At = now,
            To = SandboxStatusNames.Available,
            Actor = cause.Actor,
            Reason = cause.Reason,
            RequestId = cause.RequestId,
        };
    }
}

/// <summary>
/// Who or what makes a change, and why: everything a history event says besides the transition itself.
/// </summary>
public sealed record ChangeCause(string Actor, string? RequestId = null, string? Reason = null)
{
    /// <summary>Registration through the admin API (and the tools that call it).</summary>
    public static readonly ChangeCause Registration = new("registration");

    /// <summary>The participant a track request acts for.</summary>
    public string? Requester { get; init; }

    /// <summary>The lab (X-Instruqt-Track-ID) a track request names.</summary>
    public string? TrackName { get; init; }

    /// <summary>A background job's pass (scheduled or triggered by an operator).</summary>
    public static ChangeCause Job(string job, string? reason = null) => new("job:" + job, null, reason);
}

/// <summary>A sandbox's history as stored, oldest first.</summary>
public sealed record SandboxHistory(string SandboxId, SandboxStatus Status, IReadOnlyList<SandboxEvent> Events);

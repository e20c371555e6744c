namespace SandboxBroker.Api.Reservations;

/// <summary>
/// Sandboxes held for one lab ahead of an event (SPEC 14). The record says what was asked and whether it is still
/// active; which sandboxes it holds is on the sandboxes themselves (status reserved, reservation_id), so its held and
/// allocated counts are read from them, never kept twice.
/// </summary>
public sealed record Reservation
{
    public const string Active = "active";
    public const string Ended = "ended";

    public required string ReservationId { get; init; }
    public required string TrackName { get; init; }
    public string? NamePrefix { get; init; }
    public required int Count { get; init; }
    public required long EndsAt { get; init; }
    public required long CreatedAt { get; init; }

    /// <summary>active or ended.</summary>
    public string Status { get; init; } = Active;

    public long? EndedAt { get; init; }

    /// <summary>Who created it (admin:&lt;token name&gt;).</summary>
    public string? CreatedBy { get; init; }
}

/// <summary>held: sandboxes reserved by it now; allocated: sandboxes handed out from it.</summary>
public sealed record ReservationCounts(long Held, long Allocated);

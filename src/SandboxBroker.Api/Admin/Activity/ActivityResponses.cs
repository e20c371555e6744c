namespace SandboxBroker.Api.Admin.Activity;

/// <summary>
/// GET /admin/activity: what the pool did over the last <c>minutes</c> and where it stands now, computed from the store
/// (history events and records), so every replica answers the same.
/// </summary>
public sealed record ActivityResponse(
    int Minutes,
    long Since,
    long Until,
    IReadOnlyList<ActivityMinute> PerMinute,
    ActivityTotals Totals,
    IReadOnlyList<GroupCounts> ByPrefix,
    IReadOnlyList<GroupCounts> ByLab,
    CleanupBacklog Cleanup,
    ExhaustionEstimate Exhaustion);

/// <summary>One minute (starting at <c>minute</c>, epoch seconds): allocations, releases (allocated → pending_deletion, by the
/// holder, an operator or expiry) and deletions (records tombstoned).</summary>
public sealed record ActivityMinute(long Minute, int Allocations, int Releases, int Deletions);

public sealed record ActivityTotals(int Allocations, int Releases, int Deletions);

/// <summary>Live records (tombstones left out) of one name prefix or one lab (track_name), per state.</summary>
public sealed record GroupCounts(
    string Key, long Total, long Available, long Allocated, long PendingDeletion, long DeletionFailed, long Stale);

/// <summary>What cleanup still has to delete, and since when the oldest request has waited.</summary>
public sealed record CleanupBacklog(long PendingDeletion, long DeletionFailed, long? OldestPendingSince, long? OldestPendingAgeSeconds);

/// <summary>
/// When the available sandboxes run out at the allocation rate of the last <c>window_minutes</c>; null while nothing
/// is being allocated (no exhaustion in sight) or nothing is left.
/// </summary>
public sealed record ExhaustionEstimate(long Available, int WindowMinutes, double AllocationsPerMinute, long? EtaSeconds);

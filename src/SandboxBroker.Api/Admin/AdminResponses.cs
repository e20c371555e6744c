using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Admin;

/// <summary>The admin view of a sandbox: every field; absent values are null (never "" or 0).</summary>
public sealed record AdminSandboxResponse(
    string SandboxId,
    string Name,
    string ExternalId,
    string Status,
    string? AllocatedToTrack,
    long? AllocatedAt,
    string? IdempotencyKey,
    string? TrackName,
    long? ExpiresAt,
    double LabDurationHours,
    long? DeletionRequestedAt,
    int DeletionRetryCount,
    string? LastError,
    long? NextAttemptAt,
    long? LastSynced,
    long CreatedAt,
    long UpdatedAt,
    string? SfdcAccountId,
    long? DeletedAt,
    string? AllocatedVia,
    long? DeletionVerifiedAt,
    long? NiosxaasCleanedAt,
    bool NiosxaasCleanupSkipped,
    string? NiosxaasCleanupFailedReason)
{
    public static AdminSandboxResponse From(Sandbox s) => new(
        s.SandboxId,
        s.Name,
        s.ExternalId,
        s.Status.ToWire(),
        s.AllocatedTo,
        s.AllocatedAt > 0 ? s.AllocatedAt : null,
        s.IdempotencyKey,
        s.TrackName,
        s.AllocatedAt > 0 ? s.LeaseExpiresAt : null,
        s.LabDurationHours,
        s.DeletionRequestedAt,
        s.DeletionRetryCount,
        s.LastError,
        s.NextAttemptAt,
        s.LastSynced,
        s.CreatedAt,
        s.UpdatedAt,
        s.SfdcAccountId,
        s.DeletedAt,
        s.AllocatedVia,
        s.DeletionVerifiedAt,
        s.NiosxaasCleanedAt,
        s.NiosxaasCleanupSkipped,
        s.NiosxaasCleanupFailedReason);
}

/// <summary>One page of GET /admin/sandboxes; <c>cursor</c> is null on the last page.</summary>
public sealed record SandboxListResponse(IReadOnlyList<AdminSandboxResponse> Sandboxes, int Count, string? Cursor);

/// <summary>
/// Exact counts per state; <c>total</c> leaves tombstones out, <c>deleted</c> counts them where that is cheap (SQLite;
/// null on DynamoDB, where it would read every tombstone: list them with status=deleted), <c>unverified_deletions</c>
/// counts the tombstones no sync has yet confirmed gone upstream.
/// </summary>
public sealed record PoolStatsResponse(
    long Total, long Available, long Allocated, long PendingDeletion, long Stale, long DeletionFailed, long? Deleted,
    long UnverifiedDeletions, long Reserved)
{
    public static PoolStatsResponse From(PoolCounts c) =>
        new(c.Total, c.Available, c.Allocated, c.PendingDeletion, c.Stale, c.DeletionFailed, c.Deleted, c.UnverifiedDeletions, c.Reserved);
}

/// <summary>bulk-delete: <c>deleted</c> records tombstoned (or, on a dry run, that would be).</summary>
public sealed record BulkDeleteResponse(string Status, string FromStatus, int Deleted, long DurationMs, bool DryRun);

/// <summary>retry-deletion of every deletion_failed sandbox: <c>retried</c> moved back to pending_deletion (or would be).</summary>
public sealed record RetryAllResponse(string Status, int Retried, long DurationMs, bool DryRun);

/// <summary>Registration: <c>skipped</c> ids already had a record (any state, tombstones too) and were left untouched.</summary>
public sealed record RegisterResponse(int Created, int Skipped, IReadOnlyList<string> SkippedIds);

/// <summary>The registration body (documented for OpenAPI; the handler reads and validates it itself).</summary>
public sealed record RegisterRequest(IReadOnlyList<RegisterItem> Sandboxes);

public sealed record RegisterItem(string SandboxId, string Name, string ExternalId, string? SfdcAccountId);

/// <summary>GET /admin/sandboxes/{id}/history: the record's current status and its events, oldest first.</summary>
public sealed record HistoryResponse(string SandboxId, string Status, IReadOnlyList<SandboxEvent> Events);

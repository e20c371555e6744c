using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Admin;

/// <summary>Repairs: release, retry-deletion, bulk-delete. None of them calls the CSP.</summary>
internal sealed partial class AdminService
{
    /// <summary>allocated → pending_deletion on behalf of the holder; already pending or failed counts as done.</summary>
    public async Task<SandboxOutcome> ReleaseAsync(string sandboxId, ChangeCause cause, CancellationToken ct)
    {
        var now = time.NowEpochSeconds();
        var result = await store.TransitionAsync(Transitions.Release(sandboxId, now, holder: null, cause), ct);
        var outcome = ToOutcome(result, SandboxStatus.Allocated, repeatFrom: [SandboxStatus.PendingDeletion, SandboxStatus.DeletionFailed]);
        LogAction(logger, "release", sandboxId, outcome.GetType().Name);
        return outcome;
    }

    /// <summary>deletion_failed → pending_deletion with a fresh attempt budget, due now.</summary>
    public async Task<SandboxOutcome> RetryDeletionAsync(string sandboxId, ChangeCause cause, CancellationToken ct)
    {
        var result = await store.TransitionAsync(Transitions.RetryDeletion(sandboxId, time.NowEpochSeconds(), cause), ct);
        var outcome = ToOutcome(result, SandboxStatus.DeletionFailed, repeatFrom: []);
        LogAction(logger, "retry-deletion", sandboxId, outcome.GetType().Name);
        return outcome;
    }

    /// <summary>Every deletion_failed sandbox → pending_deletion (after a CSP outage exhausted their attempts).</summary>
    public Task<BulkOutcome> RetryAllDeletionsAsync(bool dryRun, ChangeCause cause, CancellationToken ct) =>
        BulkAsync("retry-deletion", SandboxStatus.DeletionFailed, dryRun, (id, now) => Transitions.RetryDeletion(id, now, cause), ct);

    /// <summary>Tombstones every sandbox in <paramref name="from"/> (stale or deletion_failed); never calls the CSP.</summary>
    public Task<BulkOutcome> BulkDeleteAsync(SandboxStatus from, bool dryRun, ChangeCause cause, CancellationToken ct) =>
        BulkAsync("bulk-delete", from, dryRun, (id, now) => Transitions.Tombstone(id, from, now, cause), ct);

    private async Task<BulkOutcome> BulkAsync(
        string action, SandboxStatus from, bool dryRun, Func<string, long, StateChange> change, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        var now = time.NowEpochSeconds();
        // Collect first, then write: changing records while paging through the same index could skip some.
        var ids = new List<string>();
        await foreach (var sandbox in store.ScanByStatusAsync(from, ct))
        {
            ids.Add(sandbox.SandboxId);
        }

        var changed = 0;
        if (dryRun)
        {
            changed = ids.Count;
        }
        else
        {
            foreach (var id in ids)
            {
                // A conflict means it left that state meanwhile (e.g. sync revived a stale one): leave it be.
                if (await store.TransitionAsync(change(id, now), ct) is TransitionResult.Applied)
                {
                    changed++;
                }
            }
        }

        var durationMs = (long)time.GetElapsedTime(started).TotalMilliseconds;
        var fromStatus = from.ToWire();
        LogBulk(logger, action, fromStatus, changed, dryRun, durationMs);
        return new BulkOutcome(from, changed, durationMs, dryRun);
    }

    private static SandboxOutcome ToOutcome(TransitionResult result, SandboxStatus required, SandboxStatus[] repeatFrom) => result switch
    {
        TransitionResult.Applied applied => new SandboxOutcome.Ok(applied.Sandbox),
        TransitionResult.Conflict { Current.IsTombstone: true } => new SandboxOutcome.NotFound(),
        TransitionResult.Conflict { Current: var current } when repeatFrom.Contains(current.Status) => new SandboxOutcome.Repeat(current),
        TransitionResult.Conflict { Current: var current } => new SandboxOutcome.InvalidState(current, required),
        _ => new SandboxOutcome.NotFound(),
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin {Action} of {SandboxId}: {Outcome}")]
    private static partial void LogAction(ILogger logger, string action, string sandboxId, string outcome);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Admin {Action} of {FromStatus} sandboxes: {Changed} changed (dry run: {DryRun}) in {DurationMs} ms")]
    private static partial void LogBulk(ILogger logger, string action, string fromStatus, int changed, bool dryRun, long durationMs);
}

using Microsoft.Extensions.Options;
using SandboxBroker.Api.Configuration;
using SandboxBroker.Api.Csp;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Workers.Runner;

namespace SandboxBroker.Api.Workers.StalePurge;

/// <summary>
/// <paramref name="Deleted"/>: stale records tombstoned; <paramref name="Purged"/>: tombstones removed for good;
/// <paramref name="PurgeSkipped"/>: tombstones were due for removal but the upstream list could not be trusted.
/// </summary>
public sealed record StalePurgeResult(int Deleted, int Purged, bool PurgeSkipped, long DurationMs);

/// <summary>
/// The daily stale purge: stale records not updated for the grace period become tombstones
/// (conditional on still being stale, so one that reappeared upstream meanwhile stays available); tombstones past
/// Broker:TombstoneRetention are removed, but only when CSP no longer lists their id on any page, in any state: a
/// purged id that CSP still lists would come back through sync as a new, available sandbox. If any page fails or
/// the list comes back empty, no tombstone is removed.
/// </summary>
internal sealed partial class StalePurgeService(
    ISandboxStore store,
    ICspProvider csp,
    TimeProvider time,
    IOptionsMonitor<BrokerOptions> options,
    ILogger<StalePurgeService> logger)
{
    public Task<StalePurgeResult> RunOnceAsync(TimeSpan grace, CancellationToken ct) => RunOnceAsync(grace, null, ct);

    /// <summary>One pass; its counts go to <paramref name="progress"/> (the run record) when given.</summary>
    public async Task<StalePurgeResult> RunOnceAsync(TimeSpan grace, JobProgress? progress, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(grace, TimeSpan.Zero);
        var started = time.GetTimestamp();
        var now = time.NowEpochSeconds();
        var deleted = await TombstoneStaleAsync(now, (long)grace.TotalSeconds, ct);
        var (purged, skipped) = await PurgeTombstonesAsync(now, ct);
        var result = new StalePurgeResult(deleted, purged, skipped, (long)time.GetElapsedTime(started).TotalMilliseconds);
        if (progress is not null)
        {
            progress.Add(JobProgress.Changed, deleted + purged);
            progress.Add(JobProgress.Skipped, skipped ? 1 : 0);
            progress.Add("deleted", deleted);
            progress.Add("purged", purged);
        }

        LogPass(logger, deleted, purged, skipped, result.DurationMs);
        return result;
    }

    private async Task<int> TombstoneStaleAsync(long now, long graceSeconds, CancellationToken ct)
    {
        var old = new List<string>();
        await foreach (var sandbox in store.ScanByStatusAsync(SandboxStatus.Stale, ct))
        {
            if (now - sandbox.UpdatedAt >= graceSeconds)
            {
                old.Add(sandbox.SandboxId);
            }
        }

        var deleted = 0;
        foreach (var id in old)
        {
            // Conditional on the state and on updated_at: one revived or touched since the scan is left alone.
            var change = Transitions.Tombstone(id, SandboxStatus.Stale, now, ChangeCause.Job(JobNames.StalePurge, "stale past the grace period"),
                untouchedSince: now - graceSeconds);
            if (await store.TransitionAsync(change, ct) is TransitionResult.Applied)
            {
                deleted++;
            }
        }

        return deleted;
    }

    private async Task<(int Purged, bool Skipped)> PurgeTombstonesAsync(long now, CancellationToken ct)
    {
        var retention = (long)options.CurrentValue.TombstoneRetention.TotalSeconds;
        var expired = new List<Sandbox>();
        await foreach (var tombstone in store.ScanByStatusAsync(SandboxStatus.Deleted, ct))
        {
            if ((tombstone.DeletedAt ?? tombstone.UpdatedAt) + retention <= now)
            {
                expired.Add(tombstone);
            }
        }

        if (expired.Count == 0)
        {
            return (0, false);
        }

        // Every page and every state (SPEC 11.3): an account CSP lists as inactive or deleted still keeps its tombstone.
        UpstreamListing upstream;
        try
        {
            upstream = await csp.ListSandboxesAsync(ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            LogPurgeSkipped(logger, expired.Count, ex.Message);
            return (0, true);
        }

        if (upstream.Listed.Count == 0)
        {
            LogPurgeSkipped(logger, expired.Count, "the upstream list is empty");
            return (0, true);
        }

        var purged = 0;
        foreach (var tombstone in expired)
        {
            if (!upstream.Lists(tombstone) && await store.PurgeTombstoneAsync(tombstone.SandboxId, ct))
            {
                purged++;
            }
        }

        return (purged, false);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stale purge: {Count} tombstones past retention kept, the upstream list cannot be trusted: {Reason}")]
    private static partial void LogPurgeSkipped(ILogger logger, int count, string reason);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Stale purge: {Deleted} stale sandboxes tombstoned, {Purged} tombstones removed (purge skipped {Skipped}), {DurationMs} ms")]
    private static partial void LogPass(ILogger logger, int deleted, int purged, bool skipped, long durationMs);
}

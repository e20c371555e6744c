using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using SandboxBroker.Api.Csp;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Workers.Runner;

namespace SandboxBroker.Api.Workers.Sync;

public sealed record SyncResult(int Synced, int Created, int Revived, int MarkedStale, bool Guarded, long DurationMs)
{
    /// <summary>Tombstones whose account this sync found gone upstream (deletion verified).</summary>
    public int Verified { get; init; }

    /// <summary>Tombstones still listed upstream past Jobs:Cleanup:VerifyWithin, sent back for deletion.</summary>
    public int Relisted { get; init; }
}

/// <summary>
/// Mirrors the CSP pool into the store: new upstream sandboxes become available, stale ones that
/// reappear become available again, every other state and every tombstone is left alone; available sandboxes
/// missing upstream become stale, unless the blast-radius guard holds (empty list, or too large a share of the
/// pool would go stale), which stales nothing. Every write is conditional on the state it expects, so a
/// concurrent allocation can never be undone.
/// </summary>
internal sealed partial class SyncService(
    ISandboxStore store,
    ICspProvider csp,
    TimeProvider time,
    IOptionsMonitor<JobsOptions> options,
    BrokerMetrics metrics,
    ILogger<SyncService> logger)
{
    public Task<SyncResult> RunOnceAsync(CancellationToken ct) => RunOnceAsync(null, ct);

    /// <summary>One pass; its counts go to <paramref name="progress"/> (the run record) when given.</summary>
    public async Task<SyncResult> RunOnceAsync(JobProgress? progress, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        try
        {
            var result = await SyncAsync(started, ct);
            metrics.SyncTotal.WithLabels(result.Guarded ? "guarded" : "success").Inc();
            if (progress is not null)
            {
                progress.Add(JobProgress.Examined, result.Synced);
                progress.Add(JobProgress.Changed, result.Created + result.Revived + result.MarkedStale);
                progress.Add("created", result.Created);
                progress.Add("revived", result.Revived);
                progress.Add("marked_stale", result.MarkedStale);
                progress.Add("guarded", result.Guarded ? 1 : 0);
                progress.Add("verified", result.Verified);
                progress.Add("relisted", result.Relisted);
                progress.Add(JobProgress.Changed, result.Verified + result.Relisted);
            }

            return result;
        }
        catch (BrokenCircuitException)
        {
            metrics.SyncTotal.WithLabels("skipped").Inc(); // the CSP circuit is open: nothing was asked, nothing changed
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            metrics.SyncTotal.WithLabels("error").Inc();
            throw;
        }
        finally
        {
            metrics.SyncDuration.Observe(time.GetElapsedTime(started).TotalSeconds);
        }
    }

    private async Task<SyncResult> SyncAsync(long started, CancellationToken ct)
    {
        var listedAt = time.NowEpochSeconds();
        var upstream = (await csp.ListSandboxesAsync(ct)).Active; // the pool; verification also judges by active accounts (SPEC 12)
        var now = time.NowEpochSeconds();
        int created = 0, revived = 0, refreshed = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var sandbox in upstream)
        {
            if (!seen.Add(sandbox.SandboxId))
            {
                continue;
            }

            switch (await store.UpsertFromUpstreamAsync(sandbox, now, ChangeCause.Job(JobNames.Sync, "listed upstream"), ct))
            {
                case UpsertOutcome.Created: created++; break;
                case UpsertOutcome.Revived: revived++; break;
                case UpsertOutcome.Refreshed: refreshed++; break;
            }
        }

        // Reserved sandboxes are treated like available ones (SPEC 14): missing upstream, they go stale too.
        var missing = new List<(string Id, SandboxStatus Status)>();
        var available = 0;
        foreach (var status in (SandboxStatus[])[SandboxStatus.Available, SandboxStatus.Reserved])
        {
            await foreach (var sandbox in store.ScanByStatusAsync(status, ct))
            {
                available++;
                if (!seen.Contains(sandbox.SandboxId))
                {
                    missing.Add((sandbox.SandboxId, status));
                }
            }
        }

        // An empty list is never believed (CSP answering 200 with nothing is an incident, not an empty pool); a list
        // missing more than MaxStaleFraction of the available pool neither.
        var maxFraction = options.CurrentValue.Sync.MaxStaleFraction;
        var guarded = seen.Count == 0 || (missing.Count > 0 && missing.Count > maxFraction * available);
        var markedStale = 0;
        if (guarded)
        {
            LogGuardHeld(logger, missing.Count, available, seen.Count);
        }
        else
        {
            foreach (var (id, status) in missing)
            {
                // Each write stamped when it is made: a history never goes back in time (a pass can take seconds).
                if (await store.TransitionAsync(Transitions.MarkStale(id, time.NowEpochSeconds(), ChangeCause.Job(JobNames.Sync, "no longer listed upstream"), status), ct) is TransitionResult.Applied)
                {
                    markedStale++;
                }
            }
        }

        // Only a list that was believed verifies deletions: a guarded one may be missing accounts that still exist.
        var (verified, relisted) = guarded ? (0, 0) : await VerifyDeletionsAsync(upstream, listedAt, ct);
        var result = new SyncResult(created + revived + refreshed, created, revived, markedStale, guarded, (long)time.GetElapsedTime(started).TotalMilliseconds)
        {
            Verified = verified,
            Relisted = relisted,
        };
        LogSynced(logger, result.Synced, created, revived, markedStale, guarded, result.DurationMs);
        return result;
    }

    /// <summary>
    /// SPEC 12, step 3: an unverified tombstone absent from the list is verified; one still listed
    /// Jobs:Cleanup:VerifyWithin after its delete goes back to pending_deletion (its attempt counted), never to available.
    /// </summary>
    private async Task<(int Verified, int Relisted)> VerifyDeletionsAsync(IReadOnlyList<UpstreamSandbox> upstream, long listedAt, CancellationToken ct)
    {
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var sandbox in upstream)
        {
            listed.Add(sandbox.SandboxId);
            listed.Add(sandbox.ExternalId);
        }

        var cleanup = options.CurrentValue.Cleanup;
        var within = (long)cleanup.VerifyWithin.TotalSeconds;
        var unverified = new List<Sandbox>();
        await foreach (var tombstone in store.ScanByStatusAsync(SandboxStatus.Deleted, ct))
        {
            // Only a delete older than the list can be judged by it (a later one was simply not gone yet when it was read).
            if (tombstone.IsUnverifiedDeletion && tombstone.DeletedAt <= listedAt)
            {
                unverified.Add(tombstone);
            }
        }

        int verified = 0, relisted = 0;
        foreach (var tombstone in unverified)
        {
            var now = time.NowEpochSeconds();
            var stillListed = listed.Contains(tombstone.SandboxId) || (tombstone.ExternalId.Length > 0 && listed.Contains(tombstone.ExternalId));
            if (!stillListed)
            {
                var verify = Transitions.VerifyDeletion(tombstone.SandboxId, now, ChangeCause.Job(JobNames.Sync, "deletion verified: absent upstream"));
                verified += await store.TransitionAsync(verify, ct) is TransitionResult.Applied ? 1 : 0;
            }
            else if (listedAt - tombstone.DeletedAt >= within)
            {
                var back = Transitions.StillListedUpstream(tombstone, now, cleanup.MaxAttempts, ChangeCause.Job(JobNames.Sync, "still listed upstream"));
                if (await store.TransitionAsync(back, ct) is TransitionResult.Applied)
                {
                    relisted++;
                    LogStillListed(logger, tombstone.SandboxId, now - tombstone.DeletedAt ?? 0, back.To.ToWire());
                }
            }
        }

        return (verified, relisted);
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Sandbox {SandboxId} is still listed upstream {Seconds} s after its delete: now {Status}, to be deleted again")]
    private static partial void LogStillListed(ILogger logger, string sandboxId, long seconds, string status);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Sync guard held: {Missing} of {Available} available sandboxes are missing from an upstream list of {Listed}; nothing marked stale")]
    private static partial void LogGuardHeld(ILogger logger, int missing, int available, int listed);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Sync completed: {Synced} synced ({Created} new, {Revived} revived), {MarkedStale} marked stale, guarded {Guarded}, {DurationMs} ms")]
    private static partial void LogSynced(ILogger logger, int synced, int created, int revived, int markedStale, bool guarded, long durationMs);
}

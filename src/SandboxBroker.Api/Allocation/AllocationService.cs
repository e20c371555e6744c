using Microsoft.Extensions.Options;
using SandboxBroker.Api.Configuration;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Allocation;

/// <summary>
/// Allocation and the holder's actions (SPEC sections 3 and 4). Allocation is optimistic: read a window of
/// candidates, pick among them at random, claim one with a conditional write that also writes the idempotency
/// record; on a lost race try the others, then re-read. A store with a single writer in this process (SQLite,
/// <see cref="ISingleWriterAllocation"/>) runs those same steps as one transaction on that writer, where no race can
/// happen. Never sleeps more than a few milliseconds; gives up with 503 when the time budget, counted from the
/// request's start, is spent.
/// </summary>
internal sealed partial class AllocationService(
    ISandboxStore store,
    TimeProvider time,
    IOptionsMonitor<BrokerOptions> options,
    CandidateReservations reservations,
    BrokerMetrics metrics,
    ILogger<AllocationService> logger)
{
    public async Task<AllocationOutcome> AllocateAsync(TrackCaller caller, long startedTimestamp, CancellationToken ct)
    {
        var settings = options.CurrentValue;
        var remaining = settings.AllocationBudget - time.GetElapsedTime(startedTimestamp);
        using var budget = new CancellationTokenSource(remaining > TimeSpan.Zero ? remaining : TimeSpan.FromMilliseconds(1), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, budget.Token);
        AllocationOutcome outcome;
        try
        {
            outcome = await AllocateWithinBudgetAsync(caller, settings, linked.Token);
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            outcome = new AllocationOutcome.Unavailable("allocation time budget spent");
        }
        catch (StoreUnavailableException ex)
        {
            LogStoreUnavailable(logger, ex.Message);
            outcome = new AllocationOutcome.Unavailable("store unavailable");
        }

        metrics.AllocateTotal.WithLabels(OutcomeLabel(outcome)).Inc();
        metrics.AllocationLatency.Observe(time.GetElapsedTime(startedTimestamp).TotalSeconds);
        return outcome;
    }

    private async Task<AllocationOutcome> AllocateWithinBudgetAsync(TrackCaller caller, BrokerOptions settings, CancellationToken ct)
    {
        if (store is ISingleWriterAllocation singleWriter)
        {
            return await AllocateOnWriterAsync(singleWriter, caller, settings, ct);
        }

        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var (held, replaces) = await ReadIdempotencyAsync(caller, ct);
            if (held is not null)
            {
                return new AllocationOutcome.Replayed(held);
            }

            var result = await ClaimAnyAsync(caller, replaces, settings, ct);
            if (result is not null)
            {
                return result;
            }

            // null: a concurrent call of this requester and key won the idempotency record; read it again.
        }
    }

    /// <summary>
    /// The same steps (replay check, K-candidate window, random pick, conditional claim with the idempotency record) as
    /// one transaction on the store's only writer: nothing can race it, so there is no conflict to retry.
    /// </summary>
    private async Task<AllocationOutcome> AllocateOnWriterAsync(
        ISingleWriterAllocation singleWriter, TrackCaller caller, BrokerOptions settings, CancellationToken ct)
    {
        var now = time.NowEpochSeconds();
        var result = await singleWriter.AllocateAsync(new SingleWriterAllocationRequest
        {
            Requester = caller.Requester,
            IdempotencyKey = caller.IdempotencyKey,
            TrackName = caller.TrackName,
            NamePrefix = caller.NamePrefix,
            CandidateCount = settings.CandidateCount,
            Now = now,
            ExpiresAt = now + (long)settings.LabDuration.TotalSeconds,
            LabDurationHours = settings.LabDuration.TotalHours,
        }, ct);
        switch (result)
        {
            case SingleWriterAllocation.Held held:
                return new AllocationOutcome.Replayed(held.Sandbox);
            case SingleWriterAllocation.Claimed claimed:
                return new AllocationOutcome.Allocated(claimed.Sandbox, claimed.AfterRelease);
            default:
                LogPoolEmpty(logger, caller.NamePrefix ?? "");
                return new AllocationOutcome.PoolEmpty();
        }
    }

    /// <summary>The sandbox this requester and key hold now, or the released one a new claim must replace.</summary>
    private async Task<(Sandbox? Held, string? Replaces)> ReadIdempotencyAsync(TrackCaller caller, CancellationToken ct)
    {
        var existingId = await store.GetIdempotentSandboxIdAsync(caller.Requester, caller.IdempotencyKey, ct);
        if (existingId is null)
        {
            return (null, null);
        }

        var existing = await store.GetAsync(existingId, ct);
        return existing is { Status: SandboxStatus.Allocated } && existing.IsHeldBy(caller.Requester)
            ? (existing, null)
            : (null, existingId);
    }

    private async Task<AllocationOutcome?> ClaimAnyAsync(TrackCaller caller, string? replaces, BrokerOptions settings, CancellationToken ct)
    {
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var candidates = await store.FindAvailableAsync(caller.NamePrefix, settings.CandidateCount, ct);
            if (candidates.Count == 0)
            {
                LogPoolEmpty(logger, caller.NamePrefix ?? "");
                return new AllocationOutcome.PoolEmpty();
            }

            var attempted = false;
            foreach (var candidate in Shuffle(candidates))
            {
                if (!reservations.TryReserve(candidate.SandboxId))
                {
                    continue; // another request of this replica is claiming it right now
                }

                attempted = true;
                ClaimResult claim;
                try
                {
                    claim = await store.TryClaimAsync(NewClaim(caller, candidate.SandboxId, replaces, settings), ct);
                }
                finally
                {
                    reservations.Release(candidate.SandboxId);
                }

                switch (claim)
                {
                    case ClaimResult.Claimed claimed:
                        return new AllocationOutcome.Allocated(claimed.Sandbox, replaces is not null);
                    case ClaimResult.KeyTaken:
                        return null;
                    default:
                        metrics.AllocateConflicts.Inc();
                        break;
                }
            }

            if (!attempted)
            {
                // Every candidate is being claimed by another request of this replica: let them finish.
                await Task.Delay(TimeSpan.FromMilliseconds(1 + Random.Shared.Next(3)), time, ct);
            }
        }
    }

    private ClaimRequest NewClaim(TrackCaller caller, string sandboxId, string? replaces, BrokerOptions settings)
    {
        var now = time.NowEpochSeconds();
        return new ClaimRequest
        {
            SandboxId = sandboxId,
            Requester = caller.Requester,
            IdempotencyKey = caller.IdempotencyKey,
            TrackName = caller.TrackName,
            Now = now,
            ExpiresAt = now + (long)settings.LabDuration.TotalSeconds,
            LabDurationHours = settings.LabDuration.TotalHours,
            ReplacesSandboxId = replaces,
        };
    }

    public async Task<HolderOutcome> GetAsync(string sandboxId, string requester, CancellationToken ct)
    {
        var sandbox = await store.GetAsync(sandboxId, ct);
        if (sandbox is null || sandbox.IsTombstone)
        {
            return new HolderOutcome.NotFound();
        }

        return sandbox.IsHeldBy(requester) ? new HolderOutcome.Ok(sandbox) : new HolderOutcome.NotOwner();
    }

    /// <summary>allocated → pending_deletion by the holder; a repeat (already pending or failed) is still fine.</summary>
    public async Task<HolderOutcome> MarkForDeletionAsync(string sandboxId, string requester, CancellationToken ct)
    {
        var now = time.NowEpochSeconds();
        var change = new StateChange
        {
            SandboxId = sandboxId,
            From = SandboxStatus.Allocated,
            To = SandboxStatus.PendingDeletion,
            Now = now,
            RequireHolder = requester,
            DeletionRequestedAt = now,
            NextAttemptAt = now,
        };
        var result = await store.TransitionAsync(change, ct);
        HolderOutcome outcome = result switch
        {
            TransitionResult.Applied applied => new HolderOutcome.Ok(applied.Sandbox),
            TransitionResult.Conflict { Current: var current } when current.IsTombstone => new HolderOutcome.NotFound(),
            TransitionResult.Conflict { Current: var current } when !current.IsHeldBy(requester) => new HolderOutcome.NotOwner(),
            TransitionResult.Conflict { Current: var current }
                when current.Status is SandboxStatus.PendingDeletion or SandboxStatus.DeletionFailed => new HolderOutcome.Repeat(current),
            TransitionResult.Conflict => new HolderOutcome.NotOwner(),
            _ => new HolderOutcome.NotFound(),
        };
        metrics.DeletionMarked.WithLabels(outcome switch
        {
            HolderOutcome.Ok => "success",
            HolderOutcome.Repeat => "repeat",
            HolderOutcome.NotOwner => "not_owner",
            _ => "not_found",
        }).Inc();
        return outcome;
    }

    private static string OutcomeLabel(AllocationOutcome outcome) => outcome switch
    {
        AllocationOutcome.Allocated { AfterRelease: true } => "after_release",
        AllocationOutcome.Allocated => "success",
        AllocationOutcome.Replayed => "idempotent",
        AllocationOutcome.PoolEmpty => "no_sandboxes",
        _ => "error",
    };

    private static Sandbox[] Shuffle(IReadOnlyList<Sandbox> candidates)
    {
        var order = candidates.ToArray();
        Random.Shared.Shuffle(order);
        return order;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No sandboxes available (name prefix '{NamePrefix}')")]
    private static partial void LogPoolEmpty(ILogger logger, string namePrefix);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Store unavailable during allocation: {Reason}")]
    private static partial void LogStoreUnavailable(ILogger logger, string reason);
}

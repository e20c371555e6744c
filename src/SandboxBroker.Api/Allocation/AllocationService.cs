using Microsoft.Extensions.Options;
using SandboxBroker.Api.Configuration;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Allocation;

/// <summary>
/// Allocation and the holder's actions. Allocation runs <see cref="AllocationPolicy"/> as a plan on the store, under a
/// time budget counted from the request's start: when it is spent (or the store is unavailable) the answer is 503 with
/// Retry-After, which the lab scripts retry; it also counts every outcome and its latency.
/// </summary>
internal sealed partial class AllocationService(
    ISandboxStore store,
    AllocationPolicy policy,
    TimeProvider time,
    IOptionsMonitor<BrokerOptions> options,
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
            outcome = await store.RunAllocationAsync((session, c) => policy.RunAsync(session, caller, c), linked.Token);
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

        if (outcome is AllocationOutcome.PoolEmpty)
        {
            LogPoolEmpty(logger, caller.NamePrefix ?? "");
        }
        else if (outcome is AllocationOutcome.QuotaExceeded quota)
        {
            LogQuotaExceeded(logger, quota.TokenName, caller.Token.AllocationsPerMinute);
            metrics.AllocationQuotaExceeded.WithLabels(quota.TokenName).Inc();
        }

        metrics.AllocateTotal.WithLabels(OutcomeLabel(outcome)).Inc();
        metrics.AllocationLatency.Observe(time.GetElapsedTime(startedTimestamp).TotalSeconds);
        return outcome;
    }

    public async Task<HolderOutcome> GetAsync(string sandboxId, TrackCaller caller, CancellationToken ct)
    {
        var sandbox = await store.GetAsync(sandboxId, ct);
        if (sandbox is null || sandbox.IsTombstone)
        {
            return new HolderOutcome.NotFound();
        }

        ArgumentNullException.ThrowIfNull(caller);
        return sandbox.IsHeldBy(caller.Requester, caller.Token.Name) ? new HolderOutcome.Ok(sandbox) : new HolderOutcome.NotOwner();
    }

    /// <summary>allocated → pending_deletion by the holder; a repeat (already pending or failed) is still fine.</summary>
    public async Task<HolderOutcome> MarkForDeletionAsync(string sandboxId, TrackCaller caller, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var requester = caller.Requester;
        var change = Transitions.Release(sandboxId, time.NowEpochSeconds(), holder: requester, caller.Cause, via: caller.Token.Name);
        var result = await store.TransitionAsync(change, ct);
        HolderOutcome outcome = result switch
        {
            TransitionResult.Applied applied => new HolderOutcome.Ok(applied.Sandbox),
            TransitionResult.Conflict { Current: var current } when current.IsTombstone => new HolderOutcome.NotFound(),
            TransitionResult.Conflict { Current: var current } when !current.IsHeldBy(requester, caller.Token.Name) => new HolderOutcome.NotOwner(),
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

    /// <summary>
    /// The holder's lease extension: expires_at = max(expires_at, now) + seconds, capped at allocated_at +
    /// Broker:MaxLeaseDuration; one conditional write on (allocated, holder, the expires_at read). A concurrent change of
    /// expires_at (another extension, a release) loses the write: it is read again and decided anew.
    /// </summary>
    public async Task<HolderOutcome> ExtendAsync(string sandboxId, TrackCaller caller, long? seconds, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var settings = options.CurrentValue;
        var step = seconds ?? (long)settings.ExtendStep.TotalSeconds;
        for (var attempt = 0; ; attempt++)
        {
            var sandbox = await store.GetAsync(sandboxId, ct);
            if (sandbox is null || sandbox.IsTombstone)
            {
                return new HolderOutcome.NotFound();
            }

            if (!sandbox.IsHeldBy(caller.Requester, caller.Token.Name))
            {
                return new HolderOutcome.NotOwner();
            }

            if (sandbox.Status != SandboxStatus.Allocated)
            {
                return new HolderOutcome.InvalidState(sandbox);
            }

            var now = time.NowEpochSeconds();
            var cap = sandbox.AllocatedAt + (long)settings.EffectiveMaxLease.TotalSeconds;
            var current = sandbox.LeaseExpiresAt;
            var wanted = Math.Min(Math.Max(current, now) + step, cap);
            if (wanted <= current)
            {
                return new HolderOutcome.LeaseLimitReached(sandbox);
            }

            var result = await store.TransitionAsync(Transitions.Extend(sandbox, wanted, caller.Requester, now, caller.Cause, via: caller.Token.Name), ct);
            if (result is TransitionResult.Applied applied)
            {
                metrics.LeaseExtensions.Inc();
                return new HolderOutcome.Ok(applied.Sandbox);
            }

            if (attempt >= 3)
            {
                throw new StoreUnavailableException($"the lease of {sandboxId} kept changing during the extension");
            }
        }
    }

    private static string OutcomeLabel(AllocationOutcome outcome) => outcome switch
    {
        AllocationOutcome.Allocated { AfterRelease: true } => "after_release",
        AllocationOutcome.Allocated => "success",
        AllocationOutcome.Replayed => "idempotent",
        AllocationOutcome.PoolEmpty => "no_sandboxes",
        AllocationOutcome.QuotaExceeded => "quota_exceeded",
        AllocationOutcome.Maintenance => "maintenance",
        AllocationOutcome.HeldViaAnotherToken => "not_owner",
        _ => "error",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "No sandboxes available (name prefix '{NamePrefix}')")]
    private static partial void LogPoolEmpty(ILogger logger, string namePrefix);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Allocation quota exceeded for token {token}: {AllocationsPerMinute} new allocations a minute")]
    private static partial void LogQuotaExceeded(ILogger logger, string token, int allocationsPerMinute);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Store unavailable during allocation: {Reason}")]
    private static partial void LogStoreUnavailable(ILogger logger, string reason);
}

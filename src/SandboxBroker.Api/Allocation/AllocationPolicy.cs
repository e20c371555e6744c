using Microsoft.Extensions.Options;
using SandboxBroker.Api.Configuration;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Allocation;

/// <summary>
/// The allocation policy, the only one: replay check, K-candidate window, random pick, conditional claim together with
/// the idempotency record. It runs as a plan over a store's primitives (<see cref="IAllocationSession"/>), so every rule
/// of who gets which sandbox is written here once, whatever the store. On a store that runs plans one at a time
/// (SQLite's single writer) no claim ever loses; on one shared by replicas (DynamoDB) a claim lost to another
/// replica reads a new window (the rest of the old one is as stale), one this process had just taken moves on to the next
/// candidate, and it never sleeps more than a few milliseconds.
/// Reservations (SPEC 14): a caller naming a lab takes a sandbox reserved for that lab first, then the general pool;
/// the general pool holds available sandboxes only, so no other lab ever gets a reserved one.
/// </summary>
internal sealed class AllocationPolicy(
    TimeProvider time,
    IOptionsMonitor<BrokerOptions> options,
    CandidateReservations inFlight,
    AllocationQuota quota,
    LabsWithoutReservations labsWithout,
    BrokerMetrics metrics)
{
    /// <summary>Allocated, Replayed, PoolEmpty, QuotaExceeded or Maintenance. Stops on <paramref name="ct"/> (the time budget) between steps.</summary>
    public async ValueTask<AllocationOutcome> RunAsync(IAllocationSession session, TrackCaller caller, CancellationToken ct)
    {
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var recorded = await session.ReadKeyAsync(caller.Requester, caller.IdempotencyKey, ct);
            if (recorded is not null
                && await session.ReadAsync(recorded, ct) is { Status: SandboxStatus.Allocated } held && held.IsHeldBy(caller.Requester))
            {
                // A replay shows the sandbox: only to a token of the name that allocated it (SPEC 11.3 holder binding).
                return held.IsHeldBy(caller.Requester, caller.Token.Name)
                    ? new AllocationOutcome.Replayed(held)
                    : new AllocationOutcome.HeldViaAnotherToken();
            }

            // A new allocation from here on. During maintenance (a restored table not yet reconciled) none is made:
            // a sandbox that looks available there may be in use.
            if (!options.CurrentValue.AllocationEnabled)
            {
                return new AllocationOutcome.Maintenance();
            }

            // It counts against the token's quota unless it ends without a sandbox.
            if (!quota.TryTake(caller.Token.Name, caller.Token.AllocationsPerMinute, out var retryAfter))
            {
                return new AllocationOutcome.QuotaExceeded(caller.Token.Name, retryAfter);
            }

            AllocationOutcome? outcome = null;
            try
            {
                // recorded (when set) names a sandbox this requester and key released: a new claim replaces it.
                outcome = await ClaimAsync(session, caller, recorded, ct);
            }
            finally
            {
                if (outcome is not AllocationOutcome.Allocated)
                {
                    quota.Return(caller.Token.Name);
                }
            }

            if (outcome is not null)
            {
                return outcome;
            }

            // A concurrent call of this requester and key won the idempotency record: read it again.
        }
    }

    /// <summary>A claimed sandbox, PoolEmpty, or null when the idempotency record changed under this call.</summary>
    private async ValueTask<AllocationOutcome?> ClaimAsync(IAllocationSession session, TrackCaller caller, string? replaces, CancellationToken ct)
    {
        var settings = options.CurrentValue;
        var query = new CandidateQuery(caller.NamePrefix, settings.CandidateCount);
        if (caller.TrackName is { } lab && !labsWithout.IsKnownEmpty(lab))
        {
            var reserved = await ClaimFromAsync(session, caller, replaces, query with { ReservedFor = lab }, settings, ct);
            if (reserved is not AllocationOutcome.PoolEmpty)
            {
                return reserved;
            }

            labsWithout.NoteEmpty(lab);
        }

        return await ClaimFromAsync(session, caller, replaces, query, settings, ct);
    }

    /// <summary>
    /// Claims one of the candidates <paramref name="query"/> finds, reading new windows until none is left; a claim
    /// lost to another process ends a window early (see <see cref="ClaimResult.SandboxTaken"/>).
    /// </summary>
    private async ValueTask<AllocationOutcome?> ClaimFromAsync(
        IAllocationSession session, TrackCaller caller, string? replaces, CandidateQuery query, BrokerOptions settings, CancellationToken ct)
    {
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var candidates = await session.FindCandidatesAsync(query, ct);
            var windowStale = false;
            if (candidates.Count == 0)
            {
                return new AllocationOutcome.PoolEmpty();
            }

            var attempted = false;
            foreach (var candidate in Shuffle(candidates))
            {
                if (windowStale)
                {
                    break;
                }

                if (!inFlight.TryReserve(candidate))
                {
                    continue; // another request of this process is claiming it right now
                }

                attempted = true;
                ClaimResult claim;
                try
                {
                    claim = await session.TryClaimAsync(NewClaim(caller, candidate, replaces, settings) with { ReservedFor = query.ReservedFor }, ct);
                }
                finally
                {
                    inFlight.Release(candidate);
                }

                switch (claim)
                {
                    case ClaimResult.Claimed claimed:
                        return new AllocationOutcome.Allocated(claimed.Sandbox, AfterRelease: replaces is not null);
                    case ClaimResult.KeyTaken:
                        return null;
                    case ClaimResult.SandboxTaken taken:
                        metrics.AllocateConflicts.Inc();
                        // Lost to another replica: the rest of this window was read as long ago, so trying it costs
                        // writes that mostly fail too (the tail of an emptying pool); a fresh window costs reads.
                        windowStale = taken.WindowStale;
                        break;
                }
            }

            if (!attempted)
            {
                // Every candidate is being claimed by another request of this process (only where plans run
                // concurrently, never on a single writer): let them finish.
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
            AllocatedVia = caller.Token.Name,
            Now = now,
            ExpiresAt = now + (long)settings.LabDuration.TotalSeconds,
            LabDurationHours = settings.LabDuration.TotalHours,
            ReplacesSandboxId = replaces,
            Cause = caller.Cause,
        };
    }

    private static string[] Shuffle(IReadOnlyList<string> candidates)
    {
        var order = candidates.ToArray();
        Random.Shared.Shuffle(order);
        return order;
    }
}

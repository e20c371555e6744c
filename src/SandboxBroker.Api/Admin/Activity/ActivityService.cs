using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Admin.Activity;

/// <summary>
/// The console's overview numbers, computed from the store on every call so any replica shows the same picture:
/// per-minute activity from the history events of the records changed in the window (the stores narrow that read by
/// updated_at), and counts by prefix and lab, cleanup backlog and exhaustion from the live records (index reads per
/// state, never the tombstones). The cost grows with the live pool, not with the table's history.
/// </summary>
internal sealed class ActivityService(ISandboxStore store, TimeProvider time)
{
    public const int DefaultMinutes = 60;
    public const int MaxMinutes = 1440;

    /// <summary>The allocation rate behind the exhaustion estimate: recent enough to follow a class starting.</summary>
    public const int RateWindowMinutes = 15;

    /// <summary>Groups listed per breakdown: a pool has a handful of prefixes and labs; this bounds the answer all the same.</summary>
    public const int MaxGroups = 100;

    private static readonly SandboxStatus[] LiveStates =
        [SandboxStatus.Available, SandboxStatus.Allocated, SandboxStatus.PendingDeletion, SandboxStatus.DeletionFailed, SandboxStatus.Stale];

    /// <summary>Every state a sandbox can be in after an allocation, a release or a deletion (available is not one).</summary>
    private static readonly SandboxStatus[] StatesAfterActivity =
        [SandboxStatus.Allocated, SandboxStatus.PendingDeletion, SandboxStatus.DeletionFailed, SandboxStatus.Stale, SandboxStatus.Deleted];

    public async Task<ActivityResponse> ReportAsync(int minutes, CancellationToken ct)
    {
        var now = time.NowEpochSeconds();
        var currentMinute = now / 60 * 60;
        // The window ends with the current (partial) minute and reaches far enough back for the exhaustion rate too.
        var since = currentMinute - (minutes - 1) * 60L;
        var readSince = Math.Min(since, currentMinute - (RateWindowMinutes - 1) * 60L);

        var buckets = new ActivityBucket[minutes];
        var recentAllocations = 0;
        var rateSince = currentMinute - (RateWindowMinutes - 1) * 60L;
        foreach (var status in StatesAfterActivity)
        {
            await foreach (var history in store.ScanHistoriesChangedSinceAsync(status, readSince, ct))
            {
                foreach (var e in history.Events)
                {
                    var kind = Classify(e);
                    if (kind == ActivityKind.None || e.At < readSince || e.At > now)
                    {
                        continue;
                    }

                    if (kind == ActivityKind.Allocation && e.At >= rateSince)
                    {
                        recentAllocations++;
                    }

                    if (e.At >= since)
                    {
                        buckets[(e.At - since) / 60].Add(kind);
                    }
                }
            }
        }

        var live = await LiveSnapshot.ReadAsync(store, LiveStates, ct);
        var perMinute = buckets.Select((b, i) => new ActivityMinute(since + i * 60L, b.Allocations, b.Releases, b.Deletions)).ToList();
        var totals = new ActivityTotals(perMinute.Sum(m => m.Allocations), perMinute.Sum(m => m.Releases), perMinute.Sum(m => m.Deletions));
        return new ActivityResponse(
            minutes, since, now, perMinute, totals,
            live.ByPrefix(MaxGroups), live.ByLab(MaxGroups),
            live.Backlog(now),
            Exhaustion(live.Available, recentAllocations));
    }

    internal static ActivityKind Classify(SandboxEvent e) => (e.From, e.To) switch
    {
        (SandboxStatusNames.Available, SandboxStatusNames.Allocated) => ActivityKind.Allocation,
        (SandboxStatusNames.Allocated, SandboxStatusNames.PendingDeletion) => ActivityKind.Release,
        (not null and not SandboxStatusNames.Deleted, SandboxStatusNames.Deleted) => ActivityKind.Deletion,
        _ => ActivityKind.None,
    };

    private static ExhaustionEstimate Exhaustion(long available, int recentAllocations)
    {
        var perMinute = recentAllocations / (double)RateWindowMinutes;
        long? eta = perMinute > 0 && available > 0 ? (long)Math.Ceiling(available / perMinute * 60) : null;
        return new ExhaustionEstimate(available, RateWindowMinutes, Math.Round(perMinute, 2), eta);
    }

    private struct ActivityBucket
    {
        public int Allocations;
        public int Releases;
        public int Deletions;

        public void Add(ActivityKind kind)
        {
            switch (kind)
            {
                case ActivityKind.Allocation: Allocations++; break;
                case ActivityKind.Release: Releases++; break;
                case ActivityKind.Deletion: Deletions++; break;
            }
        }
    }
}

internal enum ActivityKind
{
    None,
    Allocation,
    Release,
    Deletion,
}

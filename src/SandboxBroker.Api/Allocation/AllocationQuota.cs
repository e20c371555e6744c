using System.Collections.Concurrent;

namespace SandboxBroker.Api.Allocation;

/// <summary>
/// New allocations per token name in the last minute (SPEC 11.3): a sliding window of grant times per name, so one
/// leaked track token cannot empty the pool in seconds. Replays never take a grant, and a grant that did not end in
/// a new sandbox (empty pool, budget spent) is given back. Token names are a small configured set, and a window holds
/// at most its limit of timestamps, so memory stays bounded. Counted per broker process.
/// </summary>
internal sealed class AllocationQuota(TimeProvider time)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, LinkedList<long>> grants = new(StringComparer.Ordinal);

    /// <summary>Takes a grant for <paramref name="tokenName"/>, or says in how many seconds one frees up.</summary>
    public bool TryTake(string tokenName, int perMinute, out int retryAfterSeconds)
    {
        var now = time.GetUtcNow().UtcTicks;
        var window = grants.GetOrAdd(tokenName, _ => new LinkedList<long>());
        lock (window)
        {
            while (window.Count > 0 && now - window.First!.Value >= Window.Ticks)
            {
                window.RemoveFirst();
            }

            if (window.Count < perMinute)
            {
                window.AddLast(now);
                retryAfterSeconds = 0;
                return true;
            }

            var freesAt = window.First!.Value + Window.Ticks;
            retryAfterSeconds = Math.Max(1, (int)Math.Ceiling(TimeSpan.FromTicks(freesAt - now).TotalSeconds));
            return false;
        }
    }

    /// <summary>Gives back the newest grant of <paramref name="tokenName"/>: it did not become an allocation.</summary>
    public void Return(string tokenName)
    {
        if (!grants.TryGetValue(tokenName, out var window))
        {
            return;
        }

        lock (window)
        {
            if (window.Count > 0)
            {
                window.RemoveLast();
            }
        }
    }
}

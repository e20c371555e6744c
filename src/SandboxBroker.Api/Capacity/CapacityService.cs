using System.Collections.Concurrent;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Capacity;

/// <summary>One (sub-)pool's capacity: its counts and how many were allocated in the last <see cref="CapacityService.Window"/>.</summary>
public sealed record CapacitySnapshot(string? NamePrefix, long Available, long Reserved, long AllocatedInWindow)
{
    public double AllocationsPerMinute => Math.Round(AllocatedInWindow / CapacityService.Window.TotalMinutes, 2);

    /// <summary>Seconds until the available sandboxes run out at the current rate; null when nothing was allocated.</summary>
    public long? ExhaustionEtaSeconds => AllocatedInWindow == 0 ? null : (long)Math.Ceiling(Available * CapacityService.Window.TotalSeconds / AllocatedInWindow);
}

/// <summary>
/// Capacity of a (sub-)pool (SPEC 13), from the store's counts (never a scan): state counts plus an index range count
/// of allocations in the last 10 minutes. Answers are kept per prefix for <see cref="MaxAge"/>, so lab scripts polling
/// before an event cost the store a few counts a second at most, and an answer is never more than 5 s stale.
/// </summary>
internal sealed class CapacityService(ISandboxStore store, TimeProvider time)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(2);
    private const int MaxPrefixes = 1_000;
    private readonly ConcurrentDictionary<string, (long At, CapacitySnapshot Snapshot)> cache = new(StringComparer.Ordinal);

    public Task<CapacitySnapshot> GetAsync(string? namePrefix, CancellationToken ct) => GetAsync(namePrefix, null, ct);

    /// <param name="counts">Counts of this prefix just read by the caller (the gauge refresher): used instead of a second count.</param>
    public async Task<CapacitySnapshot> GetAsync(string? namePrefix, PoolCounts? counts, CancellationToken ct)
    {
        var key = namePrefix ?? "";
        var now = time.GetTimestamp();
        if (counts is null && cache.TryGetValue(key, out var kept) && time.GetElapsedTime(kept.At, now) < MaxAge)
        {
            return kept.Snapshot;
        }

        var since = time.NowEpochSeconds() - (long)Window.TotalSeconds;
        var read = counts is null ? store.CountAsync(namePrefix, ct) : Task.FromResult(counts);
        var allocated = store.CountAllocatedSinceAsync(namePrefix, since, ct);
        var snapshot = new CapacitySnapshot(namePrefix, (await read).Available, (await read).Reserved, await allocated);
        if (cache.Count > MaxPrefixes)
        {
            cache.Clear();
        }

        cache[key] = (now, snapshot);
        return snapshot;
    }
}

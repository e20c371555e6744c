using System.Collections.Concurrent;
using System.Diagnostics;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>
/// Sandboxes this process claimed, or found claimed by someone else, within the last minute. A sandbox past
/// available/stale never becomes available again, so candidate windows leave these out (real GSIs are eventually
/// consistent and may still list them) and a claim of one costs no write.
/// </summary>
internal sealed class RecentClaims
{
    private static readonly TimeSpan Memory = TimeSpan.FromSeconds(60);
    private const int SweepAbove = 10_000;
    private readonly ConcurrentDictionary<string, long> claimedAt = new(StringComparer.Ordinal);

    public bool Contains(string sandboxId) =>
        claimedAt.TryGetValue(sandboxId, out var at) && Stopwatch.GetElapsedTime(at) < Memory;

    public void Note(string sandboxId)
    {
        if (claimedAt.Count > SweepAbove)
        {
            foreach (var (id, at) in claimedAt)
            {
                if (Stopwatch.GetElapsedTime(at) >= Memory)
                {
                    claimedAt.TryRemove(id, out _);
                }
            }
        }

        claimedAt[sandboxId] = Stopwatch.GetTimestamp();
    }
}

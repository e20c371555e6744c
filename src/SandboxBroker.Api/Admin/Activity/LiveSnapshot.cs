using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Admin.Activity;

/// <summary>The live records, read once per state, folded into counts by prefix and lab and the cleanup backlog.</summary>
internal sealed class LiveSnapshot
{
    private readonly Dictionary<string, long[]> prefixes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long[]> labs = new(StringComparer.Ordinal);
    private long pendingDeletion;
    private long deletionFailed;
    private long? oldestPendingSince;

    public long Available { get; private set; }

    public static async Task<LiveSnapshot> ReadAsync(ISandboxStore store, IReadOnlyList<SandboxStatus> states, CancellationToken ct)
    {
        var snapshot = new LiveSnapshot();
        foreach (var status in states)
        {
            await foreach (var sandbox in store.ScanByStatusAsync(status, ct))
            {
                snapshot.Add(sandbox);
            }
        }

        return snapshot;
    }

    private void Add(Sandbox sandbox)
    {
        var state = Slot(sandbox.Status);
        if (state < 0)
        {
            return;
        }

        Count(prefixes, NamePrefix.Of(sandbox.Name), state);
        if (!string.IsNullOrEmpty(sandbox.TrackName))
        {
            Count(labs, sandbox.TrackName, state);
        }

        switch (sandbox.Status)
        {
            case SandboxStatus.Available:
                Available++;
                break;
            case SandboxStatus.PendingDeletion:
                pendingDeletion++;
                var requested = sandbox.DeletionRequestedAt ?? sandbox.UpdatedAt;
                oldestPendingSince = oldestPendingSince is { } oldest ? Math.Min(oldest, requested) : requested;
                break;
            case SandboxStatus.DeletionFailed:
                deletionFailed++;
                break;
        }
    }

    public IReadOnlyList<GroupCounts> ByPrefix(int max) => Groups(prefixes, max);

    public IReadOnlyList<GroupCounts> ByLab(int max) => Groups(labs, max);

    public CleanupBacklog Backlog(long now) => new(
        pendingDeletion, deletionFailed, oldestPendingSince, oldestPendingSince is { } since ? Math.Max(0, now - since) : null);

    private static void Count(Dictionary<string, long[]> groups, string key, int state)
    {
        if (!groups.TryGetValue(key, out var counts))
        {
            groups[key] = counts = new long[5];
        }

        counts[state]++;
    }

    /// <summary>The column of a live state in the per-group counts; -1 for a tombstone.</summary>
    private static int Slot(SandboxStatus status) => status switch
    {
        SandboxStatus.Available => 0,
        SandboxStatus.Allocated => 1,
        SandboxStatus.PendingDeletion => 2,
        SandboxStatus.DeletionFailed => 3,
        SandboxStatus.Stale => 4,
        _ => -1,
    };

    private static List<GroupCounts> Groups(Dictionary<string, long[]> groups, int max) => groups
        .Select(g => new GroupCounts(g.Key, g.Value.Sum(), g.Value[0], g.Value[1], g.Value[2], g.Value[3], g.Value[4]))
        .OrderByDescending(g => g.Total)
        .ThenBy(g => g.Key, StringComparer.Ordinal)
        .Take(max)
        .ToList();
}

using System.Collections.Concurrent;

namespace SandboxBroker.Api.Workers.Runner;

/// <summary>
/// The counts of one pass, which the pass adds to as it goes and the runner stores in the run's record while it runs
/// and when it ends: examined, changed, failed and skipped for every job, plus the job's own (deleted, expired ...).
/// </summary>
public sealed class JobProgress
{
    public const string Examined = "examined";
    public const string Changed = "changed";
    public const string Failed = "failed";
    public const string Skipped = "skipped";

    private readonly ConcurrentDictionary<string, long> counts = new(StringComparer.Ordinal)
    {
        [Examined] = 0,
        [Changed] = 0,
        [Failed] = 0,
        [Skipped] = 0,
    };

    private int version;

    /// <summary>Grows with every change: the runner saves progress only when something moved.</summary>
    public int Version => Volatile.Read(ref version);

    public void Add(string name, long delta = 1)
    {
        counts.AddOrUpdate(name, delta, (_, value) => value + delta);
        Interlocked.Increment(ref version);
    }

    public IReadOnlyDictionary<string, long> Snapshot() => new SortedDictionary<string, long>(counts, StringComparer.Ordinal);
}

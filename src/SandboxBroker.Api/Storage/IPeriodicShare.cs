namespace SandboxBroker.Api.Storage;

/// <summary>
/// A value that ONE replica computes per period for every replica sharing the store (the pool gauges, issue 20 item 3):
/// the first replica to find the shared value older than the period takes the period's lease and computes it; the
/// others read the shared value (one small read). Registered by stores that several replicas share (DynamoDB); a
/// single-process store has none, and its one process computes every period itself.
/// </summary>
public interface IPeriodicShare
{
    /// <summary>
    /// The shared value: computed here by <paramref name="compute"/> when this replica takes the period's lease,
    /// otherwise the last one any replica wrote (possibly older than the period when the lease holder is slow or gone,
    /// until the lease expires); null when none was ever written and another replica holds the lease.
    /// </summary>
    Task<SharedValue?> GetOrComputeAsync(string name, TimeSpan period, Func<CancellationToken, Task<string>> compute, CancellationToken ct);
}

/// <summary>A shared value, when it was computed (epoch milliseconds), and whether this replica computed it.</summary>
public sealed record SharedValue(string Value, long ComputedAtMs, bool ComputedHere);

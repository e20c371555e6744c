namespace SandboxBroker.Api.Sandboxes;

/// <summary>
/// Read access to the pool's records and the store's named counters, for features that must not depend on a store
/// (the simulated CSP, whose upstream list is what the broker knows). The store implements it.
/// </summary>
public interface ISandboxRecords
{
    /// <summary>Every sandbox in one state; pages internally.</summary>
    IAsyncEnumerable<Sandbox> ScanByStatusAsync(SandboxStatus status, CancellationToken ct);

    /// <summary>Atomically adds <paramref name="delta"/> to a named counter and returns the new value (0 delta reads).</summary>
    Task<long> AddToSequenceAsync(string name, long delta, CancellationToken ct);
}

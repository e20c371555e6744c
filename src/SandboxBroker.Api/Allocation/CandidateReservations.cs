using System.Collections.Concurrent;

namespace SandboxBroker.Api.Allocation;

/// <summary>
/// Candidates that a request of this process is claiming right now. Other requests of the same replica skip
/// them, so a burst on one replica spends almost no conditional writes on conflicts; across replicas the
/// store's random candidate windows keep collisions rare. Purely an optimisation: the conditional write decides.
/// </summary>
internal sealed class CandidateReservations
{
    private readonly ConcurrentDictionary<string, byte> inFlight = new(StringComparer.Ordinal);

    public bool TryReserve(string sandboxId) => inFlight.TryAdd(sandboxId, 0);

    public void Release(string sandboxId) => inFlight.TryRemove(sandboxId, out _);
}

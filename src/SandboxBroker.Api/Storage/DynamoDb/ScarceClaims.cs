namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>
/// One claim at a time in this process while candidates are scarce. Replicas share nothing but the table, so when
/// this replica's last general-pool window was short (the pool nearly empty) or held only other replicas' sandboxes
/// (its own share ran dry), every request it serves would otherwise read the same few candidates and race the other
/// replicas, and each other, for them: 40 clients emptying a 200 pool lost most of their extra writes that way, all
/// in the last second (BENCHMARKS.md, issue 20 item 4). Under this gate a replica sends one claim at a time, from a
/// window read while holding it, so the pool's last sandboxes are raced by one request per replica, not by all.
/// The gate stays out of the way whenever there is nothing to race for: a full window of this replica's own share
/// (a refilled pool) or an empty one (an empty pool's 409s read side by side, as before; plans already waiting go on
/// without it once it is known) end the scarce state.
/// </summary>
internal sealed class ScarceClaims : IDisposable
{
    private const int Plenty = 0;
    private const int Scarce = 1;
    private const int Empty = 2;
    private readonly SemaphoreSlim gate = new(1, 1);
    private volatile int state = Plenty;

    /// <summary>Whether an allocation plan should read its window and claim under the gate.</summary>
    public bool IsScarce => state == Scarce;

    /// <summary>What the last general-pool window (no name prefix, no lab) held.</summary>
    public void NoteWindow(int found, int asked, bool othersOnly) =>
        state = found == 0 ? Empty : found < asked || othersOnly ? Scarce : Plenty;

    public Task EnterAsync(CancellationToken ct) => gate.WaitAsync(ct);

    public void Exit() => gate.Release();

    public void Dispose() => gate.Dispose();
}

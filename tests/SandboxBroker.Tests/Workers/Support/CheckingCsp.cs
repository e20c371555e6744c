using System.Collections.Concurrent;
using SandboxBroker.Api.Csp;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Tests.Workers.Support;

/// <summary>
/// Wraps the live CSP client and checks, at every delete, that the record is still pending_deletion in the store
/// (nothing left it before its upstream delete succeeded); remembers which deletes CSP confirmed, and when.
/// </summary>
internal sealed class CheckingCsp(ICspProvider inner, ISandboxStore store, TimeProvider time) : ICspProvider
{
    public ConcurrentDictionary<string, DateTimeOffset> Confirmed { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<string> Violations { get; } = new();

    public ConcurrentQueue<(string SandboxId, DateTimeOffset At)> Attempts { get; } = new();

    public string Mode => inner.Mode;

    public Task<UpstreamListing> ListSandboxesAsync(CancellationToken ct) => inner.ListSandboxesAsync(ct);

    public async Task DeleteSandboxAsync(Sandbox sandbox, CancellationToken ct)
    {
        var current = await store.GetAsync(sandbox.SandboxId, ct);
        if (current?.Status != SandboxStatus.PendingDeletion)
        {
            Violations.Enqueue($"{sandbox.SandboxId} was {current?.Status.ToString() ?? "gone"} before its upstream delete");
        }

        Attempts.Enqueue((sandbox.SandboxId, time.GetUtcNow()));
        await inner.DeleteSandboxAsync(sandbox, ct);
        Confirmed[sandbox.SandboxId] = time.GetUtcNow();
    }

    /// <summary>Every tombstone in the store was confirmed upstream first.</summary>
    public async Task AssertEveryTombstoneConfirmedAsync()
    {
        await foreach (var tombstone in store.ScanByStatusAsync(SandboxStatus.Deleted, CancellationToken.None))
        {
            Assert.True(Confirmed.ContainsKey(tombstone.SandboxId), $"{tombstone.SandboxId} is a tombstone without an upstream delete");
        }

        Assert.Empty(Violations);
    }
}

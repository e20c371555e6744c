using SandboxBroker.Api.Allocation;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Tests.Storage;

/// <summary>The activity view's read: histories of the records of one state changed at or after a time.</summary>
public abstract partial class StoreContractTests
{
    [Fact]
    public async Task Histories_changed_since_a_time_leave_out_records_last_changed_before_it()
    {
        var store = await CreateStoreAsync();
        Assert.True(await store.RegisterAsync(Upstream("0001"), Now - 500, ChangeCause.Registration, default));
        Assert.True(await store.RegisterAsync(Upstream("0002"), Now - 500, ChangeCause.Registration, default));
        Assert.IsType<ClaimResult.Claimed>(await store.TryClaimAsync(Claim("0001", "alice"), default));
        Assert.IsType<TransitionResult.Applied>(await store.TransitionAsync(Transitions.Release("0001", Now - 100, "alice", Operator), default));
        Assert.IsType<ClaimResult.Claimed>(await store.TryClaimAsync(Claim("0002", "bob"), default));
        Assert.IsType<TransitionResult.Applied>(await store.TransitionAsync(Transitions.Release("0002", Now + 10, "bob", Operator), default));

        var recent = await ToListAsync(store.ScanHistoriesChangedSinceAsync(SandboxStatus.PendingDeletion, Now, default));
        var all = await ToListAsync(store.ScanHistoriesChangedSinceAsync(SandboxStatus.PendingDeletion, 0, default));

        var only = Assert.Single(recent);
        Assert.Equal("0002", only.SandboxId);
        Assert.Contains(only.Events, e => e.To == "pending_deletion" && e.At == Now + 10);
        Assert.Equal(["0001", "0002"], all.Select(h => h.SandboxId).Order(StringComparer.Ordinal));
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }
}

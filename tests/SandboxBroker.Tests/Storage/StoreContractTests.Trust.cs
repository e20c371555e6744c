using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Tests.Storage;

/// <summary>SPEC 11.3 on every store: the allocating token's name binds the sandbox; one CSP account, one sandbox.</summary>
public abstract partial class StoreContractTests
{
    [Fact]
    public async Task A_claim_records_the_token_name_and_a_release_needs_it_unless_the_record_predates_names()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 2);
        var claimed = Assert.IsType<ClaimResult.Claimed>(await store.TryClaimAsync(Claim("0001", "alice") with { AllocatedVia = "lab-1" }, default));
        Assert.Equal("lab-1", claimed.Sandbox.AllocatedVia);
        Assert.Equal("lab-1", (await store.GetAsync("0001", default))!.AllocatedVia);

        var wrongToken = await store.TransitionAsync(Transitions.Release("0001", Now + 5, "alice", TestCause.Setup, via: "lab-2"), default);
        Assert.Equal(SandboxStatus.Allocated, Assert.IsType<TransitionResult.Conflict>(wrongToken).Current.Status);
        Assert.IsType<TransitionResult.Applied>(
            await store.TransitionAsync(Transitions.Release("0001", Now + 6, "alice", TestCause.Setup, via: "lab-1"), default));

        // Allocated before token names were recorded (no allocated_via): any token name of the holder may release it.
        await store.TryClaimAsync(Claim("0002", "bob"), default);
        Assert.Null((await store.GetAsync("0002", default))!.AllocatedVia);
        Assert.IsType<TransitionResult.Applied>(
            await store.TransitionAsync(Transitions.Release("0002", Now + 7, "bob", TestCause.Setup, via: "any-name"), default));
    }

    [Fact]
    public async Task One_external_id_is_registered_under_one_sandbox_id_even_when_both_arrive_at_once()
    {
        var store = await CreateStoreAsync();
        var account = Upstream("0001").ExternalId;
        var results = await Task.WhenAll(
            store.RegisterAsync(Upstream("0001") with { ExternalId = account }, Now, TestCause.Setup, default),
            store.RegisterAsync(Upstream("0002") with { ExternalId = account }, Now, TestCause.Setup, default));
        Assert.Equal(1, results.Count(created => created));
        var stored = new[] { await store.GetAsync("0001", default), await store.GetAsync("0002", default) };
        Assert.Single(stored, s => s is not null);

        // Later, under a third id, while the first is allocated: still refused.
        var holder = stored.Single(s => s is not null)!.SandboxId;
        await store.TryClaimAsync(Claim(holder, "alice"), default);
        Assert.False(await store.RegisterAsync(Upstream("0003") with { ExternalId = account }, Now, TestCause.Setup, default));
        Assert.Null(await store.GetAsync("0003", default));
    }

    [Fact]
    public async Task A_tombstone_conditional_on_updated_at_leaves_a_record_touched_since_it_was_judged_old()
    {
        var store = await CreateStoreAsync();
        await PutInStateAsync(store, "0001", SandboxStatus.Stale);
        var updatedAt = (await store.GetAsync("0001", default))!.UpdatedAt;

        var tooEarly = Transitions.Tombstone("0001", SandboxStatus.Stale, updatedAt + 100, TestCause.Setup, untouchedSince: updatedAt - 1);
        Assert.IsType<TransitionResult.Conflict>(await store.TransitionAsync(tooEarly, default));
        Assert.Equal(SandboxStatus.Stale, (await store.GetAsync("0001", default))!.Status);

        var due = Transitions.Tombstone("0001", SandboxStatus.Stale, updatedAt + 100, TestCause.Setup, untouchedSince: updatedAt);
        Assert.IsType<TransitionResult.Applied>(await store.TransitionAsync(due, default));
    }
}

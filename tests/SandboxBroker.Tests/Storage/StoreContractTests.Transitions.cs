using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Tests.Storage;

public abstract partial class StoreContractTests
{
    /// <summary>Every lifecycle transition, each tried from a state that does not allow it.</summary>
    public static TheoryData<SandboxStatus, SandboxStatus, SandboxStatus> WrongStateTransitions => new()
    {
        { SandboxStatus.Allocated, SandboxStatus.PendingDeletion, SandboxStatus.Available },
        { SandboxStatus.PendingDeletion, SandboxStatus.Deleted, SandboxStatus.Allocated },
        { SandboxStatus.PendingDeletion, SandboxStatus.DeletionFailed, SandboxStatus.Allocated },
        { SandboxStatus.DeletionFailed, SandboxStatus.PendingDeletion, SandboxStatus.Allocated },
        { SandboxStatus.Available, SandboxStatus.Stale, SandboxStatus.Allocated },
        { SandboxStatus.Stale, SandboxStatus.Deleted, SandboxStatus.Available },
        { SandboxStatus.DeletionFailed, SandboxStatus.Deleted, SandboxStatus.PendingDeletion },
    };

    [Theory]
    [MemberData(nameof(WrongStateTransitions))]
    public async Task A_transition_from_a_state_it_does_not_expect_is_refused(SandboxStatus from, SandboxStatus to, SandboxStatus actual)
    {
        var store = await CreateStoreAsync();
        await PutInStateAsync(store, "0001", actual);
        var before = await store.GetAsync("0001", default);
        var result = await store.TransitionAsync(Change("0001", from, to), default);
        var conflict = Assert.IsType<TransitionResult.Conflict>(result);
        Assert.Equal(actual, conflict.Current.Status);
        Assert.Equal(before, await store.GetAsync("0001", default));
    }

    [Fact]
    public async Task The_lifecycle_transitions_apply_from_their_expected_states()
    {
        var store = await CreateStoreAsync();
        await PutInStateAsync(store, "0001", SandboxStatus.PendingDeletion);
        var failed = await store.TransitionAsync(Change("0001", SandboxStatus.PendingDeletion, SandboxStatus.DeletionFailed) with
        {
            DeletionRetryCount = 5,
            LastError = "HTTP 500",
        }, default);
        var applied = Assert.IsType<TransitionResult.Applied>(failed);
        Assert.Equal(SandboxStatus.DeletionFailed, applied.Sandbox.Status);
        Assert.Equal(5, applied.Sandbox.DeletionRetryCount);
        Assert.Equal("HTTP 500", applied.Sandbox.LastError);

        var retried = await store.TransitionAsync(Change("0001", SandboxStatus.DeletionFailed, SandboxStatus.PendingDeletion) with
        {
            DeletionRetryCount = 0,
            ClearLastError = true,
            NextAttemptAt = Now + 10,
        }, default);
        var back = Assert.IsType<TransitionResult.Applied>(retried).Sandbox;
        Assert.Null(back.LastError);
        Assert.Equal(Now + 10, back.NextAttemptAt);

        var deleted = await store.TransitionAsync(Change("0001", SandboxStatus.PendingDeletion, SandboxStatus.Deleted) with { DeletedAt = Now + 20 }, default);
        var tombstone = Assert.IsType<TransitionResult.Applied>(deleted).Sandbox;
        Assert.True(tombstone.IsTombstone);
        Assert.Equal(Now + 20, tombstone.DeletedAt);
        Assert.Equal("alice", tombstone.AllocatedTo);
    }

    [Fact]
    public async Task A_transition_for_another_holder_is_refused()
    {
        var store = await CreateStoreAsync();
        await PutInStateAsync(store, "0001", SandboxStatus.Allocated);
        var result = await store.TransitionAsync(
            Change("0001", SandboxStatus.Allocated, SandboxStatus.PendingDeletion) with { RequireHolder = "mallory" }, default);
        Assert.IsType<TransitionResult.Conflict>(result);
        var ok = await store.TransitionAsync(
            Change("0001", SandboxStatus.Allocated, SandboxStatus.PendingDeletion) with { RequireHolder = "alice", DeletionRequestedAt = Now + 5 }, default);
        Assert.Equal(Now + 5, Assert.IsType<TransitionResult.Applied>(ok).Sandbox.DeletionRequestedAt);
    }

    [Fact]
    public async Task A_retry_count_compare_and_set_refuses_a_stale_count()
    {
        var store = await CreateStoreAsync();
        await PutInStateAsync(store, "0001", SandboxStatus.PendingDeletion);
        var first = await store.TransitionAsync(Change("0001", SandboxStatus.PendingDeletion, SandboxStatus.PendingDeletion) with
        {
            RequireRetryCount = 0,
            DeletionRetryCount = 1,
        }, default);
        Assert.IsType<TransitionResult.Applied>(first);
        var stale = await store.TransitionAsync(Change("0001", SandboxStatus.PendingDeletion, SandboxStatus.PendingDeletion) with
        {
            RequireRetryCount = 0,
            DeletionRetryCount = 1,
        }, default);
        Assert.IsType<TransitionResult.Conflict>(stale);
        Assert.Equal(1, (await store.GetAsync("0001", default))!.DeletionRetryCount);
    }

    [Fact]
    public async Task A_transition_of_an_unknown_id_is_not_found()
    {
        var store = await CreateStoreAsync();
        Assert.IsType<TransitionResult.NotFound>(await store.TransitionAsync(Change("ghost", SandboxStatus.Allocated, SandboxStatus.PendingDeletion), default));
    }

    [Fact]
    public async Task Upsert_creates_revives_refreshes_and_leaves_every_other_state_alone()
    {
        var store = await CreateStoreAsync();
        Assert.Equal(UpsertOutcome.Created, await store.UpsertFromUpstreamAsync(Upstream("0001"), Now, TestCause.Setup, default));
        Assert.Equal(UpsertOutcome.Refreshed, await store.UpsertFromUpstreamAsync(Upstream("0001", "new-name"), Now + 1, TestCause.Setup, default));
        Assert.Equal("new-name", (await store.GetAsync("0001", default))!.Name);

        await store.TransitionAsync(Change("0001", SandboxStatus.Available, SandboxStatus.Stale), default);
        Assert.Equal(UpsertOutcome.Revived, await store.UpsertFromUpstreamAsync(Upstream("0001"), Now + 2, TestCause.Setup, default));
        Assert.Equal(SandboxStatus.Available, (await store.GetAsync("0001", default))!.Status);

        foreach (var state in new[] { SandboxStatus.Allocated, SandboxStatus.PendingDeletion, SandboxStatus.DeletionFailed, SandboxStatus.Deleted })
        {
            var id = "x-" + state;
            await PutInStateAsync(store, id, state);
            var before = await store.GetAsync(id, default);
            Assert.Equal(UpsertOutcome.Untouched, await store.UpsertFromUpstreamAsync(Upstream(id), Now + 3, TestCause.Setup, default));
            Assert.Equal(before, await store.GetAsync(id, default));
            Assert.False(await store.RegisterAsync(Upstream(id), Now + 3, TestCause.Setup, default));
        }
    }

    [Fact]
    public async Task Purge_removes_only_tombstones()
    {
        var store = await CreateStoreAsync();
        await PutInStateAsync(store, "live", SandboxStatus.PendingDeletion);
        await PutInStateAsync(store, "dead", SandboxStatus.Deleted);
        Assert.False(await store.PurgeTombstoneAsync("live", default));
        Assert.True(await store.PurgeTombstoneAsync("dead", default));
        Assert.Null(await store.GetAsync("dead", default));
        Assert.NotNull(await store.GetAsync("live", default));
    }

    /// <summary>Walks a new sandbox (allocated to alice) along the lifecycle to <paramref name="state"/>.</summary>
    protected static async Task PutInStateAsync(ISandboxStore store, string id, SandboxStatus state)
    {
        await store.RegisterAsync(Upstream(id), Now, TestCause.Setup, default);
        if (state == SandboxStatus.Available)
        {
            return;
        }

        if (state == SandboxStatus.Stale)
        {
            await store.TransitionAsync(Change(id, SandboxStatus.Available, SandboxStatus.Stale), default);
            return;
        }

        Assert.IsType<ClaimResult.Claimed>(await store.TryClaimAsync(Claim(id, "alice", "key-" + id), default));
        if (state == SandboxStatus.Allocated)
        {
            return;
        }

        await store.TransitionAsync(Change(id, SandboxStatus.Allocated, SandboxStatus.PendingDeletion), default);
        if (state == SandboxStatus.DeletionFailed)
        {
            await store.TransitionAsync(Change(id, SandboxStatus.PendingDeletion, SandboxStatus.DeletionFailed), default);
        }
        else if (state == SandboxStatus.Deleted)
        {
            await store.TransitionAsync(Change(id, SandboxStatus.PendingDeletion, SandboxStatus.Deleted) with { DeletedAt = Now }, default);
        }

        Assert.Equal(state, (await store.GetAsync(id, default))!.Status);
    }
}

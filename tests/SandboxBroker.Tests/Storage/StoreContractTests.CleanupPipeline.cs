using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Tests.Storage;

/// <summary>SPEC 12 on every store: verified deletion, the way back to pending_deletion, and the NIOSXaaS attributes.</summary>
public abstract partial class StoreContractTests
{
    [Fact]
    public async Task A_tombstone_is_verified_once_and_then_counts_no_more_as_unverified()
    {
        var store = await CreateStoreAsync();
        await PutInStateAsync(store, "0001", SandboxStatus.Deleted);
        await PutInStateAsync(store, "0002", SandboxStatus.Deleted);
        Assert.Equal(2, (await store.CountAsync(null, default)).UnverifiedDeletions);
        Assert.True((await store.GetAsync("0001", default))!.IsUnverifiedDeletion);

        var verified = await store.TransitionAsync(Transitions.VerifyDeletion("0001", Now + 60, TestCause.Setup), default);
        var record = Assert.IsType<TransitionResult.Applied>(verified).Sandbox;
        Assert.Equal((SandboxStatus.Deleted, Now + 60, (long?)Now), (record.Status, record.DeletionVerifiedAt, record.DeletedAt));
        Assert.False(record.IsUnverifiedDeletion);
        Assert.Equal(1, (await store.CountAsync(null, default)).UnverifiedDeletions);

        // Verified is final: neither a second verification nor a return to pending_deletion applies.
        Assert.IsType<TransitionResult.Conflict>(await store.TransitionAsync(Transitions.VerifyDeletion("0001", Now + 90, TestCause.Setup), default));
        Assert.IsType<TransitionResult.Conflict>(await store.TransitionAsync(Transitions.StillListedUpstream(record, Now + 90, 5, TestCause.Setup), default));
        Assert.Equal(Now + 60, (await store.GetAsync("0001", default))!.DeletionVerifiedAt);

        var history = (await store.GetHistoryAsync("0001", default))!.Events;
        Assert.Equal(("deleted", "deleted"), (history[^1].From, history[^1].To));
    }

    [Fact]
    public async Task A_tombstone_still_listed_goes_back_to_pending_deletion_with_the_attempt_counted_and_its_event()
    {
        var store = await CreateStoreAsync();
        await PutInStateAsync(store, "0001", SandboxStatus.Deleted);
        var tombstone = (await store.GetAsync("0001", default))!;

        var back = await store.TransitionAsync(
            Transitions.StillListedUpstream(tombstone, Now + 1800, 5, ChangeCause.Job("sync", "still listed upstream")), default);
        var record = Assert.IsType<TransitionResult.Applied>(back).Sandbox;
        Assert.Equal(SandboxStatus.PendingDeletion, record.Status);
        Assert.Equal(tombstone.DeletionRetryCount + 1, record.DeletionRetryCount);
        Assert.Null(record.DeletedAt);
        Assert.Equal(Now + 1800, record.NextAttemptAt);
        Assert.Equal(Transitions.StillListedError, record.LastError);
        Assert.Equal(0, (await store.CountAsync(null, default)).UnverifiedDeletions);

        var last = (await store.GetHistoryAsync("0001", default))!.Events[^1];
        Assert.Equal(("deleted", "pending_deletion", "still listed upstream", "job:sync"), (last.From, last.To, last.Reason, last.Actor));
        Assert.Equal(record.DeletionRetryCount, last.Attempt);

        // The count it read is a compare-and-set: a second sync acting on the same read does nothing.
        Assert.IsType<TransitionResult.Conflict>(await store.TransitionAsync(Transitions.StillListedUpstream(tombstone, Now + 1801, 5, TestCause.Setup), default));
    }

    [Fact]
    public async Task A_tombstone_still_listed_on_its_last_attempt_is_deletion_failed()
    {
        var store = await CreateStoreAsync();
        await PutInStateAsync(store, "0001", SandboxStatus.Deleted);
        var tombstone = (await store.GetAsync("0001", default))!;

        var back = await store.TransitionAsync(Transitions.StillListedUpstream(tombstone, Now + 1800, tombstone.DeletionRetryCount + 1, TestCause.Setup), default);

        var record = Assert.IsType<TransitionResult.Applied>(back).Sandbox;
        Assert.Equal(SandboxStatus.DeletionFailed, record.Status);
        Assert.Null(record.NextAttemptAt);
    }

    [Fact]
    public async Task The_niosxaas_step_writes_the_original_attributes_and_its_event_without_a_state_change()
    {
        var store = await CreateStoreAsync();
        await PutInStateAsync(store, "0001", SandboxStatus.PendingDeletion);

        var failed = await store.TransitionAsync(
            Transitions.NiosXaasStep("0001", Now + 5, new NiosXaasMark(null, false, "NIOSXaaS sign-in answered 503"), ChangeCause.Job("cleanup", "niosxaas cleanup failed")), default);
        var record = Assert.IsType<TransitionResult.Applied>(failed).Sandbox;
        Assert.Equal((SandboxStatus.PendingDeletion, (long?)null, false, "NIOSXaaS sign-in answered 503"),
            (record.Status, record.NiosxaasCleanedAt, record.NiosxaasCleanupSkipped, record.NiosxaasCleanupFailedReason));

        var skipped = await store.TransitionAsync(Transitions.NiosXaasStep("0001", Now + 9, new NiosXaasMark(Now + 9, true, null), TestCause.Setup), default);
        record = Assert.IsType<TransitionResult.Applied>(skipped).Sandbox;
        Assert.Equal(((long?)(Now + 9), true, (string?)null), (record.NiosxaasCleanedAt, record.NiosxaasCleanupSkipped, record.NiosxaasCleanupFailedReason));
        Assert.Equal(record, await store.GetAsync("0001", default));

        var events = (await store.GetHistoryAsync("0001", default))!.Events;
        Assert.Equal(("pending_deletion", "pending_deletion", "niosxaas cleanup failed"), (events[^2].From, events[^2].To, events[^2].Reason));

        // Only on a pending_deletion sandbox.
        await PutInStateAsync(store, "0002", SandboxStatus.Allocated);
        Assert.IsType<TransitionResult.Conflict>(await store.TransitionAsync(
            Transitions.NiosXaasStep("0002", Now + 5, new NiosXaasMark(Now + 5, false, null), TestCause.Setup), default));
    }
}

using SandboxBroker.Api.Allocation;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Tests.Storage;

/// <summary>
/// Histories: every change appends its event in the same atomic write, a refused change writes none, concurrent
/// changes leave one event each, and a history keeps the newest 100 events for as long as the record.
/// </summary>
public abstract partial class StoreContractTests
{
    private static readonly ChangeCause Operator = new("admin:admin-1", "req-op");

    [Fact]
    public async Task Registration_claim_and_release_each_append_their_event_in_order()
    {
        var store = await CreateStoreAsync();
        Assert.True(await store.RegisterAsync(Upstream("0001"), Now - 50, ChangeCause.Registration with { RequestId = "req-reg" }, default));
        Assert.IsType<ClaimResult.Claimed>(await store.TryClaimAsync(Claim("0001", "alice"), default));
        Assert.IsType<TransitionResult.Applied>(await store.TransitionAsync(Transitions.Release("0001", Now + 5, "alice", Operator), default));

        var history = await store.GetHistoryAsync("0001", default);
        Assert.NotNull(history);
        Assert.Equal(SandboxStatus.PendingDeletion, history.Status);
        Assert.Collection(history.Events,
            created =>
            {
                Assert.Null(created.From);
                Assert.Equal("available", created.To);
                Assert.Equal("registration", created.Actor);
                Assert.Equal("req-reg", created.RequestId);
                Assert.Equal(Now - 50, created.At);
            },
            claimed =>
            {
                Assert.Equal(("available", "allocated"), (claimed.From, claimed.To));
                Assert.Equal("track:test", claimed.Actor);
                Assert.Equal("req-alice", claimed.RequestId);
                Assert.Equal("alice", claimed.Requester);
                Assert.Equal("lab-a", claimed.TrackName);
                Assert.Equal(Now, claimed.At);
            },
            released =>
            {
                Assert.Equal(("allocated", "pending_deletion"), (released.From, released.To));
                Assert.Equal("admin:admin-1", released.Actor);
                Assert.Equal("req-op", released.RequestId);
                Assert.Equal("alice", released.Requester);
            });
        Assert.Null(Api.Invariants.InvariantChecker.Gap(history));
    }

    [Theory]
    [MemberData(nameof(WrongStateTransitions))]
    public async Task A_transition_whose_condition_fails_writes_no_event(SandboxStatus from, SandboxStatus to, SandboxStatus actual)
    {
        var store = await CreateStoreAsync();
        await PutInStateAsync(store, "0001", actual);
        var before = await store.GetHistoryAsync("0001", default);

        Assert.IsType<TransitionResult.Conflict>(await store.TransitionAsync(Change("0001", from, to), default));

        Assert.Equal(before!.Events, (await store.GetHistoryAsync("0001", default))!.Events);
    }

    [Fact]
    public async Task A_refused_claim_writes_no_event()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 2);
        await store.TryClaimAsync(Claim("0001", "alice"), default);
        var before = (await store.GetHistoryAsync("0001", default))!.Events;

        Assert.IsType<ClaimResult.SandboxTaken>(await store.TryClaimAsync(Claim("0001", "bob"), default));
        Assert.IsType<ClaimResult.KeyTaken>(await store.TryClaimAsync(Claim("0002", "alice"), default));

        Assert.Equal(before, (await store.GetHistoryAsync("0001", default))!.Events);
        Assert.Single((await store.GetHistoryAsync("0002", default))!.Events); // its registration only
    }

    [Fact]
    public async Task A_replayed_allocation_writes_no_event()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 3);
        var service = NewAllocationService(store);
        var caller = new TrackCaller("alice", "alice", "lab-a", null) { Actor = "track:track-1", RequestId = "req-1" };
        var first = Assert.IsType<AllocationOutcome.Allocated>(await service.AllocateAsync(caller, TimeProvider.System.GetTimestamp(), default));
        var replay = Assert.IsType<AllocationOutcome.Replayed>(
            await service.AllocateAsync(caller with { RequestId = "req-2" }, TimeProvider.System.GetTimestamp(), default));

        Assert.Equal(first.Sandbox.SandboxId, replay.Sandbox.SandboxId);
        var events = (await store.GetHistoryAsync(first.Sandbox.SandboxId, default))!.Events;
        Assert.Equal(2, events.Count); // registration, allocation
        Assert.Equal(("track:track-1", "req-1"), (events[1].Actor, events[1].RequestId));
    }

    [Fact]
    public async Task Concurrent_transitions_on_one_sandbox_leave_one_event_per_change_that_applied()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 1);
        await store.TryClaimAsync(Claim("0001", "alice"), default);

        // Ten releases race (one applies), then twenty steps that change no state all apply, concurrently.
        var releases = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Task.Run(() =>
            store.TransitionAsync(Transitions.Release("0001", Now + 1, "alice", new ChangeCause($"admin:r{i}")), default))));
        var notes = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() =>
            store.TransitionAsync(Transitions.Note("0001", SandboxStatus.PendingDeletion, Now + 2, new ChangeCause($"job:n{i}")), default))));

        Assert.Single(releases, r => r is TransitionResult.Applied);
        Assert.All(notes, n => Assert.IsType<TransitionResult.Applied>(n));
        var history = (await store.GetHistoryAsync("0001", default))!;
        Assert.Equal(1 + 1 + 1 + 20, history.Events.Count); // registration, claim, the one release, twenty notes
        Assert.Single(history.Events, e => e.To == "pending_deletion" && e.From == "allocated");
        Assert.Equal(20, history.Events.Select(e => e.Actor).Where(a => a.StartsWith("job:n", StringComparison.Ordinal)).Distinct().Count());
        Assert.Null(Api.Invariants.InvariantChecker.Gap(history));
    }

    [Fact]
    public async Task A_history_keeps_the_newest_hundred_events()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 1);
        for (var i = 0; i < 130; i++)
        {
            var step = Transitions.Note("0001", SandboxStatus.Available, Now + i, new ChangeCause("job:step", null, $"step {i}"));
            Assert.IsType<TransitionResult.Applied>(await store.TransitionAsync(step, default));
        }

        var events = (await store.GetHistoryAsync("0001", default))!.Events;
        Assert.InRange(events.Count, SandboxEvent.MaxPerSandbox - 10, SandboxEvent.MaxPerSandbox);
        Assert.Equal("step 129", events[^1].Reason);
        Assert.Equal(Enumerable.Range(130 - events.Count, events.Count).Select(i => $"step {i}"), events.Select(e => e.Reason));

        // A state change still applies (and is recorded) on a full history.
        Assert.IsType<ClaimResult.Claimed>(await store.TryClaimAsync(Claim("0001", "alice"), default));
        var after = (await store.GetHistoryAsync("0001", default))!;
        Assert.InRange(after.Events.Count, SandboxEvent.MaxPerSandbox - 10, SandboxEvent.MaxPerSandbox);
        Assert.Equal(("available", "allocated"), (after.Events[^1].From, after.Events[^1].To));
    }

    [Fact]
    public async Task A_failed_delete_attempt_is_recorded_with_its_attempt_error_and_next_attempt()
    {
        var store = await CreateStoreAsync();
        await PutInStateAsync(store, "0001", SandboxStatus.PendingDeletion);
        var pending = (await store.GetAsync("0001", default))!;

        var change = Transitions.DeleteAttemptFailed(pending, Now + 20, "CSP answered 500", 5, TimeSpan.FromMinutes(2), ChangeCause.Job("cleanup"));
        Assert.IsType<TransitionResult.Applied>(await store.TransitionAsync(change, default));

        var last = (await store.GetHistoryAsync("0001", default))!.Events[^1];
        Assert.Equal(("pending_deletion", "pending_deletion"), (last.From, last.To));
        Assert.Equal("job:cleanup", last.Actor);
        Assert.Equal(1, last.Attempt);
        Assert.Equal("CSP answered 500", last.Error);
        Assert.Equal(Now + 20 + 120, last.NextAttemptAt);
    }

    [Fact]
    public async Task Sync_records_creation_and_revival_but_not_a_refresh_and_a_tombstone_keeps_its_history()
    {
        var store = await CreateStoreAsync();
        var sync = ChangeCause.Job("sync");
        Assert.Equal(UpsertOutcome.Created, await store.UpsertFromUpstreamAsync(Upstream("0001"), Now, sync, default));
        Assert.Equal(UpsertOutcome.Refreshed, await store.UpsertFromUpstreamAsync(Upstream("0001"), Now + 1, sync, default));
        Assert.IsType<TransitionResult.Applied>(await store.TransitionAsync(Transitions.MarkStale("0001", Now + 2, sync), default));
        Assert.Equal(UpsertOutcome.Revived, await store.UpsertFromUpstreamAsync(Upstream("0001"), Now + 3, sync, default));
        Assert.IsType<TransitionResult.Applied>(await store.TransitionAsync(Transitions.MarkStale("0001", Now + 4, sync), default));
        Assert.IsType<TransitionResult.Applied>(await store.TransitionAsync(Transitions.Tombstone("0001", SandboxStatus.Stale, Now + 5, Operator), default));

        var history = (await store.GetHistoryAsync("0001", default))!;
        Assert.Equal(SandboxStatus.Deleted, history.Status);
        Assert.Equal(
            [(null, "available"), ("available", "stale"), ("stale", "available"), ("available", "stale"), ("stale", "deleted")],
            history.Events.Select(e => (e.From, e.To)));
        Assert.All(history.Events.Take(4), e => Assert.Equal("job:sync", e.Actor));
        Assert.Null(await store.GetHistoryAsync("no-such-id", default));
    }

    [Fact]
    public async Task Histories_of_a_state_are_scanned_with_the_state_they_replay_to()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 3);
        await store.TryClaimAsync(Claim("0002", "bob"), default);

        var available = new List<SandboxHistory>();
        await foreach (var history in store.ScanHistoriesAsync(SandboxStatus.Available, default))
        {
            available.Add(history);
        }

        var allocated = new List<SandboxHistory>();
        await foreach (var history in store.ScanHistoriesAsync(SandboxStatus.Allocated, default))
        {
            allocated.Add(history);
        }

        Assert.Equal(["0001", "0003"], available.Select(h => h.SandboxId).Order(StringComparer.Ordinal));
        Assert.All(available, h => Assert.Equal("available", Assert.Single(h.Events).To));
        Assert.Equal("allocated", Assert.Single(allocated).Events[^1].To);
    }
}

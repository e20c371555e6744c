using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Tests.Storage;

public abstract partial class StoreContractTests
{
    [Fact]
    public async Task Candidates_are_only_available_sandboxes_and_at_most_the_limit()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 30);
        for (var i = 1; i <= 10; i++)
        {
            await store.TryClaimAsync(Claim(i.ToString("D4"), $"user-{i}"), default);
        }

        var candidates = await store.FindAvailableAsync(null, 15, default);
        Assert.Equal(15, candidates.Count);
        Assert.All(candidates, c => Assert.Equal(SandboxStatus.Available, c.Status));
        Assert.Equal(15, candidates.Select(c => c.SandboxId).Distinct().Count());
    }

    [Fact]
    public async Task A_name_prefix_finds_its_sandbox_wherever_it_sits_in_the_pool()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 120, "general");
        await store.RegisterAsync(Upstream("0068x", "lab-adventure-101-a"), Now, TestCause.Setup, default);
        var found = await store.FindAvailableAsync("lab-adventure", 15, default);
        Assert.Equal("0068x", Assert.Single(found).SandboxId);
        Assert.Empty(await store.FindAvailableAsync("no-such-prefix", 15, default));
    }

    [Fact]
    public async Task Paging_returns_every_sandbox_exactly_once()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 250);
        var seen = new List<string>();
        string? after = null;
        var pages = 0;
        do
        {
            var page = await store.ListAsync(new SandboxQuery { Limit = 100, After = after }, default);
            Assert.True(page.Items.Count <= 100);
            seen.AddRange(page.Items.Select(s => s.SandboxId));
            after = page.Next;
            pages++;
        }
        while (after is not null && pages < 10);

        Assert.Equal(250, seen.Count);
        Assert.Equal(250, seen.Distinct().Count());
    }

    [Fact]
    public async Task List_filters_by_status_prefix_track_and_requester_and_hides_tombstones()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 6, "blue");
        await WithSandboxesAsync(store, 0);
        await store.RegisterAsync(Upstream("r1", "red-1"), Now, TestCause.Setup, default);
        await PutInStateAsync(store, "gone", SandboxStatus.Deleted);
        await store.TryClaimAsync(Claim("0002", "bob"), default);

        var all = await store.ListAsync(new SandboxQuery { Limit = 100 }, default);
        Assert.Equal(7, all.Items.Count);
        Assert.DoesNotContain(all.Items, s => s.IsTombstone);
        var allocated = await store.ListAsync(new SandboxQuery { Status = SandboxStatus.Allocated, Limit = 100 }, default);
        Assert.Equal("0002", Assert.Single(allocated.Items).SandboxId);
        var red = await store.ListAsync(new SandboxQuery { NamePrefix = "red", Limit = 100 }, default);
        Assert.Equal("r1", Assert.Single(red.Items).SandboxId);
        var bobs = await store.ListAsync(new SandboxQuery { Requester = "bob", Limit = 100 }, default);
        Assert.Equal("0002", Assert.Single(bobs.Items).SandboxId);
        var lab = await store.ListAsync(new SandboxQuery { TrackName = "lab-a", Status = SandboxStatus.Allocated, Limit = 100 }, default);
        Assert.Single(lab.Items);
        var tombstones = await store.ListAsync(new SandboxQuery { Status = SandboxStatus.Deleted, Limit = 100 }, default);
        Assert.Equal("gone", Assert.Single(tombstones.Items).SandboxId);
    }

    [Fact]
    public async Task Counts_are_exact_per_state_and_per_prefix()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 5, "blue");
        await store.RegisterAsync(Upstream("r1", "red-1"), Now, TestCause.Setup, default);
        await store.TryClaimAsync(Claim("0001", "alice"), default);
        await PutInStateAsync(store, "p1", SandboxStatus.PendingDeletion);
        await PutInStateAsync(store, "f1", SandboxStatus.DeletionFailed);
        await PutInStateAsync(store, "s1", SandboxStatus.Stale);
        await PutInStateAsync(store, "d1", SandboxStatus.Deleted);

        var counts = await store.CountAsync(null, default);
        Assert.Equal(new PoolCounts(Available: 5, Allocated: 1, PendingDeletion: 1, DeletionFailed: 1, Stale: 1, Deleted: CountsTombstones ? 1 : null) { UnverifiedDeletions = 1 }, counts);
        Assert.Equal(9, counts.Total);
        var blue = await store.CountAsync("blue", default);
        Assert.Equal(4, blue.Available);
        Assert.Equal(1, blue.Allocated);
        Assert.Equal(5, blue.Total);
    }

    [Fact]
    public async Task Scan_by_status_walks_every_sandbox_of_that_state()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 620);
        var ids = new HashSet<string>();
        await foreach (var sandbox in store.ScanByStatusAsync(SandboxStatus.Available, default))
        {
            Assert.Equal(SandboxStatus.Available, sandbox.Status);
            Assert.True(ids.Add(sandbox.SandboxId));
        }

        Assert.Equal(620, ids.Count);
    }

    [Fact]
    public async Task Coordination_items_never_show_up_as_sandboxes()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 3);
        await store.TryClaimAsync(Claim("0001", "alice"), default);
        await store.AddToSequenceAsync("simulated", 5, default);
        await store.TryAcquireJobLeaseAsync(new JobLeaseRequest { Job = "sync", Owner = "a", Now = Now, LeaseUntil = Now + 60 }, default);

        Assert.Equal(3, (await store.ListAsync(new SandboxQuery { Limit = 100 }, default)).Items.Count);
        Assert.Equal(3, (await store.CountAsync(null, default)).Total);
        var available = new List<Sandbox>();
        await foreach (var sandbox in store.ScanByStatusAsync(SandboxStatus.Available, default))
        {
            available.Add(sandbox);
        }

        Assert.Equal(2, available.Count);
    }

    [Fact]
    public async Task Sequences_add_atomically()
    {
        var store = await CreateStoreAsync();
        Assert.Equal(0, await store.AddToSequenceAsync("n", 0, default));
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => store.AddToSequenceAsync("n", 1, default)));
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), results.Order());
        Assert.Equal(25, await store.AddToSequenceAsync("n", 5, default));
    }

    [Fact]
    public async Task A_job_lease_has_one_holder_until_it_expires_or_is_released()
    {
        var store = await CreateStoreAsync();
        JobLeaseRequest Lease(string owner, long now, long? expected = null) =>
            new() { Job = "cleanup", Owner = owner, Now = now, LeaseUntil = now + 60, ExpectedLastRunAt = expected };

        Assert.True(await store.TryAcquireJobLeaseAsync(Lease("a", Now, expected: 0), default));
        Assert.False(await store.TryAcquireJobLeaseAsync(Lease("b", Now + 1), default));
        Assert.True(await store.RenewJobLeaseAsync("cleanup", "a", Now + 120, default));
        Assert.False(await store.RenewJobLeaseAsync("cleanup", "b", Now + 120, default));
        Assert.False(await store.TryAcquireJobLeaseAsync(Lease("b", Now + 100), default));
        Assert.True(await store.TryAcquireJobLeaseAsync(Lease("b", Now + 121), default));

        await store.CompleteJobAsync(new JobCompletion
        {
            Job = "cleanup", Owner = "b", FinishedAt = Now + 130, Outcome = "success", DurationMs = 42, Succeeded = true,
        }, default);
        var state = await store.GetJobStateAsync("cleanup", default);
        Assert.NotNull(state);
        Assert.Null(state.LeaseOwner);
        Assert.Equal(Now + 121, state.LastRunAt);
        Assert.Equal("success", state.LastOutcome);
        Assert.Equal(42, state.LastDurationMs);
        Assert.Equal(Now + 130, state.LastSuccessAt);

        // The compare-and-set on last_run_at: only one of two replicas that read the same state runs the pass.
        Assert.False(await store.TryAcquireJobLeaseAsync(Lease("c", Now + 200, expected: Now), default));
        Assert.True(await store.TryAcquireJobLeaseAsync(Lease("c", Now + 200, expected: Now + 121), default));
        Assert.Contains(await store.ListJobStatesAsync(default), s => s.Job == "cleanup" && s.LeaseOwner == "c");
    }
}

using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SandboxBroker.Api.Allocation;
using SandboxBroker.Api.Configuration;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Tests.Storage;

public abstract partial class StoreContractTests
{
    private static readonly BrokerMetrics Metrics = new();

    /// <summary>
    /// These tests check correctness under races, not speed: a generous time budget keeps a slow, busy CI machine
    /// (DynamoDB Local shares two cores with the test host) from turning a correct allocation into a 503.
    /// </summary>
    private static readonly BrokerOptions RaceOptions = new() { AllocationBudget = TimeSpan.FromSeconds(29) };

    internal static AllocationService NewAllocationService(ISandboxStore store, BrokerOptions? options = null)
    {
        var settings = new StaticOptionsMonitor<BrokerOptions>(options ?? RaceOptions);
        var policy = new AllocationPolicy(TimeProvider.System, settings, new CandidateReservations(), new AllocationQuota(TimeProvider.System),
            new LabsWithoutReservations(TimeProvider.System), Metrics);
        return new AllocationService(store, policy, TimeProvider.System, settings, Metrics, NullLogger<AllocationService>.Instance);
    }

    [Fact]
    public async Task Two_hundred_requesters_at_once_get_two_hundred_distinct_sandboxes()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 200);
        var service = NewAllocationService(store);
        var outcomes = await Task.WhenAll(Enumerable.Range(1, 200).Select(i => Task.Run(() =>
            service.AllocateAsync(new TrackCaller($"student-{i}", $"student-{i}", null, null), TimeProvider.System.GetTimestamp(), default))));

        var allocated = outcomes.Select(o => Assert.IsType<AllocationOutcome.Allocated>(o).Sandbox).ToList();
        Assert.Equal(200, allocated.Select(s => s.SandboxId).Distinct().Count());
        var holders = new Dictionary<string, string>();
        await foreach (var sandbox in store.ScanByStatusAsync(SandboxStatus.Allocated, default))
        {
            holders.Add(sandbox.SandboxId, sandbox.AllocatedTo!);
        }

        Assert.Equal(200, holders.Count);
        Assert.Equal(200, holders.Values.Distinct().Count());
        Assert.IsType<AllocationOutcome.PoolEmpty>(await service.AllocateAsync(
            new TrackCaller("late", "late", null, null), TimeProvider.System.GetTimestamp(), default));
    }

    [Fact]
    public async Task Fifty_concurrent_calls_by_one_requester_get_one_sandbox()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 60);
        var service = NewAllocationService(store);
        var outcomes = await Task.WhenAll(Enumerable.Range(1, 50).Select(_ => Task.Run(() =>
            service.AllocateAsync(new TrackCaller("same-one", "same-one", null, null), TimeProvider.System.GetTimestamp(), default))));

        var ids = outcomes.Select(o => o switch
        {
            AllocationOutcome.Allocated a => a.Sandbox.SandboxId,
            AllocationOutcome.Replayed r => r.Sandbox.SandboxId,
            _ => throw new Xunit.Sdk.XunitException($"unexpected outcome {o}"),
        }).Distinct().ToList();
        Assert.Single(ids);
        Assert.Single(outcomes.OfType<AllocationOutcome.Allocated>());
        Assert.Equal(1, (await store.CountAsync(null, default)).Allocated);
    }

    [Fact]
    public async Task After_release_the_same_requester_and_key_get_a_new_sandbox()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 3);
        var service = NewAllocationService(store);
        var caller = new TrackCaller("alice", "alice", null, null);
        var first = Assert.IsType<AllocationOutcome.Allocated>(await service.AllocateAsync(caller, TimeProvider.System.GetTimestamp(), default));
        Assert.False(first.AfterRelease);
        Assert.IsType<HolderOutcome.Ok>(await service.MarkForDeletionAsync(first.Sandbox.SandboxId, caller, default));
        var second = Assert.IsType<AllocationOutcome.Allocated>(await service.AllocateAsync(caller, TimeProvider.System.GetTimestamp(), default));
        Assert.True(second.AfterRelease);
        Assert.NotEqual(first.Sandbox.SandboxId, second.Sandbox.SandboxId);
        var replay = Assert.IsType<AllocationOutcome.Replayed>(await service.AllocateAsync(caller, TimeProvider.System.GetTimestamp(), default));
        Assert.Equal(second.Sandbox.SandboxId, replay.Sandbox.SandboxId);
    }

    [Fact]
    public async Task Allocation_with_a_prefix_takes_only_matching_sandboxes()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 40, "other");
        await store.RegisterAsync(Upstream("m1", "lab-x-1"), Now, TestCause.Setup, default);
        await store.RegisterAsync(Upstream("m2", "lab-x-2"), Now, TestCause.Setup, default);
        var service = NewAllocationService(store);
        var got = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var outcome = await service.AllocateAsync(new TrackCaller($"p{i}", $"p{i}", null, "lab-x"), TimeProvider.System.GetTimestamp(), default);
            got.Add(Assert.IsType<AllocationOutcome.Allocated>(outcome).Sandbox.SandboxId);
        }

        Assert.Equal(["m1", "m2"], got.Order());
        Assert.IsType<AllocationOutcome.PoolEmpty>(await service.AllocateAsync(
            new TrackCaller("p9", "p9", null, "lab-x"), TimeProvider.System.GetTimestamp(), default));
    }
}

internal sealed class StaticOptionsMonitor<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;

    public T Get(string? name) => value;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}

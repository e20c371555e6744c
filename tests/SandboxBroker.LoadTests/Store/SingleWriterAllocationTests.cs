using System.Reflection;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Storage.Sqlite;

namespace SandboxBroker.LoadTests.Store;

/// <summary>
/// The SQLite store's allocation on its writer (group commit; see BENCHMARKS.md, "Before and after"): the same
/// outcomes as the read-then-claim path, one sandbox per requester and key however many calls land in one batch, and
/// an allocation cancelled while it waits in the queue never claims anything.
/// </summary>
public sealed class SingleWriterAllocationTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "sbx-single-writer-tests", Guid.NewGuid().ToString("N"));
    private readonly List<SqliteSandboxStore> stores = [];

    [Fact]
    public async Task A_replay_gets_the_held_sandbox_and_after_release_a_new_one()
    {
        var store = await StoreWithAsync(20);
        var first = Assert.IsType<SingleWriterAllocation.Claimed>(await store.AllocateAsync(Request("alice"), default));
        Assert.False(first.AfterRelease);
        Assert.Equal(SandboxStatus.Allocated, first.Sandbox.Status);
        Assert.Equal("alice", first.Sandbox.AllocatedTo);
        Assert.Equal("alice", first.Sandbox.IdempotencyKey);

        var replay = Assert.IsType<SingleWriterAllocation.Held>(await store.AllocateAsync(Request("alice"), default));
        Assert.Equal(first.Sandbox.SandboxId, replay.Sandbox.SandboxId);

        var released = await store.TransitionAsync(new StateChange
        {
            SandboxId = first.Sandbox.SandboxId, From = SandboxStatus.Allocated, To = SandboxStatus.PendingDeletion, Now = 2, RequireHolder = "alice",
        }, default);
        Assert.IsType<TransitionResult.Applied>(released);

        var again = Assert.IsType<SingleWriterAllocation.Claimed>(await store.AllocateAsync(Request("alice"), default));
        Assert.True(again.AfterRelease);
        Assert.NotEqual(first.Sandbox.SandboxId, again.Sandbox.SandboxId);
        Assert.Equal(again.Sandbox.SandboxId, await store.GetIdempotentSandboxIdAsync("alice", "alice", default));
    }

    [Fact]
    public async Task Fifty_calls_of_one_requester_at_once_get_one_sandbox_and_two_hundred_requesters_get_distinct_ones()
    {
        var store = await StoreWithAsync(250);
        var same = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => store.AllocateAsync(Request("bob"), default))));
        Assert.Single(same.OfType<SingleWriterAllocation.Claimed>());
        Assert.Single(same.Select(IdOf).Distinct());

        var many = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(() => store.AllocateAsync(Request($"p{i}"), default))));
        Assert.All(many, m => Assert.IsType<SingleWriterAllocation.Claimed>(m));
        Assert.Equal(200, many.Select(IdOf).Distinct().Count());
        Assert.DoesNotContain(IdOf(same[0]), many.Select(IdOf));
        Assert.Equal(201, (await store.CountAsync(null, default)).Allocated);
    }

    [Fact]
    public async Task A_name_prefix_finds_its_one_sandbox_and_an_exhausted_pool_is_empty()
    {
        var store = await StoreWithAsync(120);
        await store.RegisterAsync(new UpstreamSandbox("lab-x", "lab-adventure-101-a", "identity/accounts/lab-x", 1, null), 1, default);

        var match = Assert.IsType<SingleWriterAllocation.Claimed>(await store.AllocateAsync(Request("carol") with { NamePrefix = "lab-adventure" }, default));
        Assert.Equal("lab-x", match.Sandbox.SandboxId);
        Assert.IsType<SingleWriterAllocation.PoolEmpty>(await store.AllocateAsync(Request("dave") with { NamePrefix = "lab-adventure" }, default));
        Assert.IsType<SingleWriterAllocation.PoolEmpty>(await store.AllocateAsync(Request("erin") with { NamePrefix = "no-such" }, default));

        for (var i = 0; i < 120; i++)
        {
            Assert.IsType<SingleWriterAllocation.Claimed>(await store.AllocateAsync(Request($"q{i}"), default));
        }

        Assert.IsType<SingleWriterAllocation.PoolEmpty>(await store.AllocateAsync(Request("late"), default));
    }

    [Fact]
    public async Task An_allocation_cancelled_while_queued_never_claims()
    {
        var store = await StoreWithAsync(10);
        // Hold the write lock, as a long write would: the allocation waits in the queue.
        var writeLock = (SemaphoreSlim)typeof(SqliteSandboxStore).GetField("writeLock", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(store)!;
        await writeLock.WaitAsync();
        Task<SingleWriterAllocation> queued;
        using (var cancel = new CancellationTokenSource())
        {
            queued = store.AllocateAsync(Request("frank"), cancel.Token);
            await Task.Delay(100);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        }

        writeLock.Release();
        var next = Assert.IsType<SingleWriterAllocation.Claimed>(await store.AllocateAsync(Request("grace"), default));
        Assert.Equal("grace", next.Sandbox.AllocatedTo);
        Assert.Null(await store.GetIdempotentSandboxIdAsync("frank", "frank", default));
        Assert.Equal(1, (await store.CountAsync(null, default)).Allocated);
    }

    private static string IdOf(SingleWriterAllocation outcome) => outcome switch
    {
        SingleWriterAllocation.Claimed c => c.Sandbox.SandboxId,
        SingleWriterAllocation.Held h => h.Sandbox.SandboxId,
        _ => "",
    };

    private static SingleWriterAllocationRequest Request(string requester) => new()
    {
        Requester = requester,
        IdempotencyKey = requester,
        CandidateCount = 15,
        Now = 1_700_000_000,
        ExpiresAt = 1_700_014_400,
        LabDurationHours = 4,
    };

    private async Task<SqliteSandboxStore> StoreWithAsync(int sandboxes)
    {
        Directory.CreateDirectory(directory);
        var store = new SqliteSandboxStore(Path.Combine(directory, $"store-{stores.Count}.db"));
        stores.Add(store);
        await store.InitializeAsync(default);
        for (var i = 0; i < sandboxes; i++)
        {
            var id = i.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);
            await store.RegisterAsync(new UpstreamSandbox(id, "general-" + id, "identity/accounts/" + id, 1, null), 1, default);
        }

        return store;
    }

    public void Dispose()
    {
        foreach (var store in stores)
        {
            store.Dispose();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

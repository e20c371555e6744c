using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Storage.Sqlite;

namespace SandboxBroker.Tests.Storage;

/// <summary>
/// The embedded store's allocation queue: plans run one after another on the writer, each in a savepoint of the
/// batch's transaction, and callers hear their outcome after the commit.
/// </summary>
public sealed class SqliteAllocationQueueTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "sbx-sqlite-queue-tests", Guid.NewGuid().ToString("N"));
    private readonly List<SqliteSandboxStore> stores = [];

    [Fact]
    public async Task A_plan_cancelled_while_queued_never_runs()
    {
        var store = await StoreWithAsync(10);
        using var writerBusy = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        // The first plan holds the writer (synchronously, as a long write would) so the second waits in the queue.
        var holding = store.RunAllocationAsync((session, ct) =>
        {
            writerBusy.Set();
            release.Wait(TimeSpan.FromSeconds(30), CancellationToken.None);
            return ValueTask.FromResult(0);
        }, default);
        Assert.True(writerBusy.Wait(TimeSpan.FromSeconds(30)));

        var ran = false;
        using var cancel = new CancellationTokenSource();
        var queued = store.RunAllocationAsync((session, ct) =>
        {
            ran = true;
            return session.TryClaimAsync(Claim("0001", "frank"), ct);
        }, cancel.Token);
        await cancel.CancelAsync();
        release.Set();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        await holding;
        Assert.False(ran);
        Assert.Null(await store.GetIdempotentSandboxIdAsync("frank", "frank", default));
        Assert.Equal(SandboxStatus.Available, (await store.GetAsync("0001", default))!.Status);
    }

    [Fact]
    public async Task A_plan_that_throws_after_claiming_takes_its_claim_back_and_the_others_of_its_batch_stand()
    {
        var store = await StoreWithAsync(10);
        var failing = store.RunAllocationAsync<ClaimResult>(async (session, ct) =>
        {
            await session.TryClaimAsync(Claim("0001", "alice"), ct);
            throw new InvalidOperationException("a bug after the claim");
        }, default);
        var fine = store.RunAllocationAsync((session, ct) => session.TryClaimAsync(Claim("0002", "bob"), ct), default);

        await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        Assert.IsType<ClaimResult.Claimed>(await fine);
        Assert.Equal(SandboxStatus.Available, (await store.GetAsync("0001", default))!.Status);
        Assert.Null(await store.GetIdempotentSandboxIdAsync("alice", "alice", default));
        Assert.Equal("bob", (await store.GetAsync("0002", default))!.AllocatedTo);
        Assert.Equal(1, (await store.CountAsync(null, default)).Allocated);
    }

    [Fact]
    public async Task A_plan_that_waits_on_something_else_is_refused_and_writes_nothing()
    {
        var store = await StoreWithAsync(10);
        var waiting = store.RunAllocationAsync(async (session, ct) =>
        {
            await session.TryClaimAsync(Claim("0001", "carol"), ct);
            await Task.Delay(10, ct);
            return 1;
        }, default);

        await Assert.ThrowsAsync<InvalidOperationException>(() => waiting);
        Assert.Equal(0, (await store.CountAsync(null, default)).Allocated);
    }

    private static ClaimRequest Claim(string sandboxId, string requester) => new()
    {
        SandboxId = sandboxId,
        Cause = TestCause.Setup,
        Requester = requester,
        IdempotencyKey = requester,
        Now = 1_800_000_000,
        ExpiresAt = 1_800_014_400,
        LabDurationHours = 4,
    };

    private async Task<SqliteSandboxStore> StoreWithAsync(int sandboxes)
    {
        Directory.CreateDirectory(directory);
        var store = new SqliteSandboxStore(Path.Combine(directory, $"store-{stores.Count}.db"));
        stores.Add(store);
        await store.InitializeAsync(default);
        for (var i = 1; i <= sandboxes; i++)
        {
            var id = i.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);
            await store.RegisterAsync(new UpstreamSandbox(id, "general-" + id, "identity/accounts/" + id, 1, null), 1, TestCause.Setup, default);
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

using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Time.Testing;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Storage.DynamoDb;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Storage.DynamoDb;

/// <summary>
/// Issue 20 item 3: pool counts (gauges, admin stats) never read tombstones, and the gauges are counted by one replica
/// per period. Counted through a client wrapper against DynamoDB Local (items evaluated, not time).
/// </summary>
[Collection(DynamoDbLocalCollection.Name)]
[Trait("Category", "DynamoDb")]
public sealed class DynamoDbPoolCountTests(DynamoDbLocalFixture dynamo)
{
    private const long Now = 1_800_000_000;

    private static UpstreamSandbox Upstream(string id) => new(id, "sbx-" + id, "identity/accounts/" + id, Now, null);

    private static async Task TombstoneAsync(DynamoDbSandboxStore store, string id)
    {
        await store.RegisterAsync(Upstream(id), Now, TestCause.Setup, default);
        Assert.IsType<TransitionResult.Applied>(await store.TransitionAsync(new StateChange
        {
            SandboxId = id, From = SandboxStatus.Available, To = SandboxStatus.Stale, Now = Now + 1, Cause = TestCause.Setup,
        }, default));
        Assert.IsType<TransitionResult.Applied>(await store.TransitionAsync(Transitions.Tombstone(id, SandboxStatus.Stale, Now + 2, TestCause.Setup), default));
    }

    [Fact]
    public async Task Counts_read_live_items_and_unverified_tombstones_only()
    {
        var table = dynamo.Options().TableName;
        var store = await dynamo.CreateStoreAsync(table);
        await Parallel.ForEachAsync(Enumerable.Range(0, 20), async (i, ct) => await store.RegisterAsync(Upstream($"live-{i:D3}"), Now, TestCause.Setup, ct));
        await Parallel.ForEachAsync(Enumerable.Range(0, 120), new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (i, _) => await TombstoneAsync(store, $"tomb-{i:D3}"));
        // 110 of them verified by a sync: what remains unverified is what the gauge and the alert watch.
        await Parallel.ForEachAsync(Enumerable.Range(10, 110), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            Assert.IsType<TransitionResult.Applied>(await store.TransitionAsync(Transitions.VerifyDeletion($"tomb-{i:D3}", Now + 3, TestCause.Setup), ct)));

        var (client, counter) = CountingDynamoDb.Wrap(dynamo.Client);
        var counting = await dynamo.CreateStoreAsync(table, client);
        counter.Reset();
        var counts = await counting.CountAsync(null, default);

        Assert.Equal((20L, 10L, (long?)null), (counts.Available, counts.UnverifiedDeletions, counts.Deleted));
        // 20 live items and 10 unverified tombstones evaluated; none of the 110 verified tombstones.
        Assert.Equal(30, counter.ItemsRead);
        // A tombstone listed by status=deleted all the same.
        Assert.Equal(120, (await counting.ListAsync(new SandboxQuery { Status = SandboxStatus.Deleted, Limit = 500 }, default)).Items.Count);
        // Back to pending_deletion (still listed upstream): no longer an unverified tombstone.
        Assert.IsType<TransitionResult.Applied>(await store.TransitionAsync(new StateChange
        {
            SandboxId = "tomb-000", From = SandboxStatus.Deleted, To = SandboxStatus.PendingDeletion, Now = Now + 4, Cause = TestCause.Setup,
            RequireUnverified = true, ClearDeletedAt = true,
        }, default));
        Assert.Equal((9L, 1L), ((await counting.CountAsync(null, default)).UnverifiedDeletions, (await counting.CountAsync(null, default)).PendingDeletion));
    }

    [Fact]
    public async Task Unverified_tombstones_from_before_the_mark_are_marked_once_at_start_up()
    {
        var table = dynamo.Options().TableName;
        await dynamo.CreateStoreAsync(table);
        // A tombstone as the broker wrote it before U# existed (no avail_shard), and a verified one.
        foreach (var (id, verified) in new[] { ("old-1", false), ("old-2", true) })
        {
            var item = SandboxItem.NewAvailable(Upstream(id), Now);
            item.Remove(TableLayout.AvailShard);
            item[TableLayout.Status] = new AttributeValue { S = "deleted" };
            item[TableLayout.DeletedAt] = new AttributeValue { N = (Now + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) };
            if (verified)
            {
                item[TableLayout.DeletionVerifiedAt] = new AttributeValue { N = (Now + 2).ToString(System.Globalization.CultureInfo.InvariantCulture) };
            }

            await dynamo.Client.PutItemAsync(new PutItemRequest { TableName = table, Item = item });
        }

        // The first store created the table and recorded the backfill as done before these existed: clear that record
        // (a table from before this change has none).
        await dynamo.Client.DeleteItemAsync(table, new() { [TableLayout.PartitionKey] = new("LAYOUT"), [TableLayout.SortKey] = new("UNVERIFIED_MARKS") });
        var store = await dynamo.CreateStoreAsync(table);
        Assert.Equal(1, (await store.CountAsync(null, default)).UnverifiedDeletions);
    }

    [Fact]
    public async Task One_replica_counts_per_period_and_the_others_read_its_values()
    {
        var table = dynamo.Options().TableName;
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(Now));
        var replicas = new List<IPeriodicShare>();
        for (var i = 0; i < 4; i++)
        {
            replicas.Add((await dynamo.CreateStoreAsync(table)).CreatePeriodicShare(clock));
        }

        var computed = 0;
        Task<string> Compute(CancellationToken _) => Task.FromResult($"counted-{Interlocked.Increment(ref computed)}");
        var period = TimeSpan.FromSeconds(2);
        for (var tick = 1; tick <= 5; tick++)
        {
            // Replicas' timers are not aligned: each period another one asks first (it counts), the others after it.
            var values = new List<SharedValue?>();
            foreach (var r in replicas.Skip(tick % replicas.Count).Concat(replicas.Take(tick % replicas.Count)))
            {
                values.Add(await r.GetOrComputeAsync("pool-gauges", period, Compute, default));
            }

            Assert.Equal(tick, computed); // once per period, cluster-wide
            Assert.Single(values, v => v!.ComputedHere);
            // Every replica serves the same values (the three that did not count read the shared item).
            Assert.All(values, v => Assert.Equal($"counted-{tick}", v!.Value));
            clock.Advance(period);
        }
    }
}

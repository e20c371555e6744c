using System.Globalization;
using Amazon.DynamoDBv2.Model;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Storage.DynamoDb;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Storage.DynamoDb;

/// <summary>
/// The scarce-claims gate on DynamoDB Local: once a general-pool window comes back short, a replica's plans read
/// their windows and claim one at a time, so the pool's last sandboxes are raced by one request per replica.
/// </summary>
[Collection(DynamoDbLocalCollection.Name)]
[Trait("Category", "DynamoDb")]
public sealed class DynamoDbScarceClaimsTests(DynamoDbLocalFixture dynamo)
{
    private const long Now = 1_800_000_000;
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(300);

    /// <summary>A store on a new table of <paramref name="count"/> available sandboxes (ids 001, 002, ...).</summary>
    private async Task<DynamoDbSandboxStore> StoreWithPoolAsync(int count, string? table = null)
    {
        var store = await dynamo.CreateStoreAsync(table ?? dynamo.Options().TableName);
        for (var i = 1; i <= count; i++)
        {
            await store.RegisterAsync(new UpstreamSandbox(i.ToString("D3", CultureInfo.InvariantCulture), $"sbx-{i:D3}", $"identity/accounts/{i}", Now, null),
                Now, TestCause.Setup, default);
        }

        return store;
    }

    /// <summary>A plan that reads a general-pool window, says so, and holds on until <paramref name="release"/> completes.</summary>
    private static Task<int> HoldingPlanAsync(DynamoDbSandboxStore store, TaskCompletionSource windowRead, Task release) =>
        store.RunAllocationAsync(async (session, ct) =>
        {
            var window = await session.FindCandidatesAsync(new CandidateQuery(null, 15), ct);
            windowRead.TrySetResult();
            await release;
            return window.Count;
        }, default);

    [Fact]
    public async Task While_the_pool_is_nearly_empty_a_second_plan_reads_its_window_only_after_the_first_plan_ended()
    {
        var store = await StoreWithPoolAsync(3);
        Assert.Equal(3, (await store.FindAvailableAsync(null, 15, default)).Count); // a short window: candidates are scarce

        await AssertASecondPlanWaitsForTheFirstAsync(store, window: 3);
    }

    [Fact]
    public async Task A_plan_that_finds_the_pool_emptied_leaves_the_gate_and_the_plans_waiting_for_it_go_on()
    {
        var table = dynamo.Options().TableName;
        var store = await StoreWithPoolAsync(1, table);
        Assert.Single(await store.FindAvailableAsync(null, 15, default)); // a short window: candidates are scarce

        var releaseFirst = new TaskCompletionSource();
        var firstRead = new TaskCompletionSource();
        var first = HoldingPlanAsync(store, firstRead, releaseFirst.Task);
        await firstRead.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var neverReleased = new TaskCompletionSource();
        var second = HoldingPlanAsync(store, new TaskCompletionSource(), neverReleased.Task);
        var third = HoldingPlanAsync(store, new TaskCompletionSource(), Task.CompletedTask);
        await Task.Delay(Settle);
        Assert.False(second.IsCompleted || third.IsCompleted, "plans read windows while the first still held the gate");

        // Another replica takes the last sandbox; then the first plan ends without claiming.
        var other = await dynamo.CreateStoreAsync(table);
        Assert.IsType<ClaimResult.Claimed>(await other.TryClaimAsync(new ClaimRequest
        {
            SandboxId = "001", Requester = "elsewhere", IdempotencyKey = "elsewhere", Now = Now, ExpiresAt = Now + 3600,
            Cause = TestCause.Setup, LabDurationHours = 1,
        }, default));
        releaseFirst.SetResult();
        Assert.Equal(1, await first.WaitAsync(TimeSpan.FromSeconds(30)));

        // Whichever of the two entered next found nothing and left the gate while still running: the other got through.
        var done = await Task.WhenAny(second, third).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Same(third, done);
        Assert.Equal(0, await third);
        Assert.False(second.IsCompleted);
        neverReleased.SetResult();
        Assert.Equal(0, await second.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_replica_whose_own_share_ran_dry_takes_the_others_sandboxes_one_plan_at_a_time()
    {
        var table = dynamo.Options().TableName;
        var seed = await StoreWithPoolAsync(40, table);
        foreach (var sandbox in await seed.FindAvailableAsync(null, 40, default))
        {
            // Every sandbox in shard 1: none in shard 0, the only one of replica 0 of 16.
            await dynamo.Client.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = table,
                Key = SandboxItem.Key(sandbox.SandboxId),
                UpdateExpression = "SET #s = :s",
                ExpressionAttributeNames = new Dictionary<string, string> { ["#s"] = TableLayout.AvailShard },
                ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":s"] = new() { S = "1" } },
            });
        }

        var options = dynamo.Options(table);
        options.Replicas = TableLayout.AvailShardCount;
        options.ReplicaIndex = 0;
        var store = new DynamoDbSandboxStore(dynamo.Client, options, Microsoft.Extensions.Logging.Abstractions.NullLogger<DynamoDbSandboxStore>.Instance);
        await store.InitializeAsync(default);
        Assert.Equal(15, (await store.FindAvailableAsync(null, 15, default)).Count); // a full window, of the others' only

        await AssertASecondPlanWaitsForTheFirstAsync(store, window: 15);
    }

    /// <summary>
    /// A first plan reads its window and holds the gate; a second plan reads nothing until the first ends; then both
    /// see <paramref name="window"/> candidates.
    /// </summary>
    private static async Task AssertASecondPlanWaitsForTheFirstAsync(DynamoDbSandboxStore store, int window)
    {
        var release = new TaskCompletionSource();
        var firstRead = new TaskCompletionSource();
        var first = HoldingPlanAsync(store, firstRead, release.Task);
        await firstRead.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var secondRead = new TaskCompletionSource();
        var second = HoldingPlanAsync(store, secondRead, Task.CompletedTask);
        await Task.Delay(Settle);
        Assert.False(secondRead.Task.IsCompleted, "the second plan read a window while the first still held the gate");

        release.SetResult();
        Assert.Equal(window, await first.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(window, await second.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task With_a_full_window_plans_read_and_claim_side_by_side()
    {
        var store = await StoreWithPoolAsync(40);
        Assert.Equal(15, (await store.FindAvailableAsync(null, 15, default)).Count); // a full window: not scarce

        var release = new TaskCompletionSource();
        var firstRead = new TaskCompletionSource();
        var first = HoldingPlanAsync(store, firstRead, release.Task);
        await firstRead.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var secondRead = new TaskCompletionSource();
        Assert.Equal(15, await HoldingPlanAsync(store, secondRead, Task.CompletedTask).WaitAsync(TimeSpan.FromSeconds(30)));
        release.SetResult();
        Assert.Equal(15, await first.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}

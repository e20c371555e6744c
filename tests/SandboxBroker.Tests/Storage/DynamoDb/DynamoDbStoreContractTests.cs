using SandboxBroker.Api.Storage;
using SandboxBroker.Tests.Storage;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Storage.DynamoDb;

/// <summary>The store contract on DynamoDB Local, one fresh table per store.</summary>
[Collection(DynamoDbLocalCollection.Name)]
[Trait("Category", "DynamoDb")]
public sealed class DynamoDbStoreContractTests(DynamoDbLocalFixture dynamo) : StoreContractTests
{
    protected override async Task<ISandboxStore> CreateStoreAsync() => await dynamo.CreateStoreAsync();

    protected override bool CountsTombstones => false;

    // Replicas claim concurrently here, so windows must start at different places (the single SQLite writer takes
    // them in index order instead: SqliteStoreContractTests).
    [Fact]
    public async Task Candidate_windows_are_spread_over_the_pool()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 200);
        var firstPicks = new HashSet<string>();
        for (var i = 0; i < 20; i++)
        {
            firstPicks.Add((await store.FindAvailableAsync(null, 5, default))[0].SandboxId);
        }

        // Twenty readers must not all start from the same item (the original made every caller fight over the same 15).
        Assert.True(firstPicks.Count >= 5, $"only {firstPicks.Count} distinct window starts");
    }
}

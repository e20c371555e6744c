using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Storage.DynamoDb;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Admin;

/// <summary>The listing tests through the real host on DynamoDB Local (a fresh table per test), the production store.</summary>
[Collection(DynamoDbLocalCollection.Name)]
[Trait("Category", "DynamoDb")]
public sealed class DynamoDbAdminListingTests(DynamoDbLocalFixture dynamo) : AdminListingTests
{
    protected override Task<BrokerFactory> CreateBrokerAsync()
    {
        var broker = OnDynamoDbLocal(AdminTestKit.EmptyBroker(), dynamo);
        return Task.FromResult(broker);
    }

    [Fact]
    public void The_host_runs_on_the_DynamoDB_store()
    {
        Assert.Equal(StorageOptions.DynamoDbProvider, Broker.Get<StoreChoice>().Provider);
        Assert.NotNull(Broker.Get<DynamoDbSandboxStore>());
    }
}

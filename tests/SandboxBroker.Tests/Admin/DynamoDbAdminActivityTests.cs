using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Admin;

/// <summary>The activity tests through the real host on DynamoDB Local (a fresh table per test), the production store.</summary>
[Collection(DynamoDbLocalCollection.Name)]
[Trait("Category", "DynamoDb")]
public sealed class DynamoDbAdminActivityTests(DynamoDbLocalFixture dynamo) : AdminActivityTests
{
    protected override Task<BrokerFactory> CreateBrokerAsync()
    {
        var broker = OnDynamoDbLocal(AdminTestKit.EmptyBroker().WithTime(Clock), dynamo);
        return Task.FromResult(broker);
    }
}

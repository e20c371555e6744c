using Amazon.DynamoDBv2;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
        var options = dynamo.Options();
        var broker = AdminTestKit.EmptyBroker()
            .With("Storage:Provider", "DynamoDb")
            .With("Storage:Sqlite:Path", null)
            .With("Storage:DynamoDb:TableName", options.TableName)
            .With("Storage:DynamoDb:ServiceUrl", options.ServiceUrl)
            .With("Storage:DynamoDb:Region", options.Region)
            .With("Storage:DynamoDb:CreateTable", "true")
            .With("Storage:DynamoDb:Timeout", "00:00:10")
            // Dummy credentials: the SDK must never look for real ones (or the instance-metadata endpoint).
            .WithServices(s => s.Replace(ServiceDescriptor.Singleton<IAmazonDynamoDB>(_ => dynamo.Local.CreateClient(options))));
        return Task.FromResult(broker);
    }

    [Fact]
    public void The_host_runs_on_the_DynamoDB_store()
    {
        Assert.Equal(StorageOptions.DynamoDbProvider, Broker.Get<StoreChoice>().Provider);
        Assert.NotNull(Broker.Get<DynamoDbSandboxStore>());
    }
}

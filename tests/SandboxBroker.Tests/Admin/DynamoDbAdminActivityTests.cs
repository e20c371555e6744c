using Amazon.DynamoDBv2;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Admin;

/// <summary>The activity tests through the real host on DynamoDB Local (a fresh table per test), the production store.</summary>
[Collection(DynamoDbLocalCollection.Name)]
[Trait("Category", "DynamoDb")]
public sealed class DynamoDbAdminActivityTests(DynamoDbLocalFixture dynamo) : AdminActivityTests
{
    protected override Task<BrokerFactory> CreateBrokerAsync()
    {
        var options = dynamo.Options();
        var broker = AdminTestKit.EmptyBroker()
            .WithTime(Clock)
            .With("Storage:Provider", "DynamoDb")
            .With("Storage:Sqlite:Path", null)
            .With("Storage:DynamoDb:TableName", options.TableName)
            .With("Storage:DynamoDb:ServiceUrl", options.ServiceUrl)
            .With("Storage:DynamoDb:Region", options.Region)
            .With("Storage:DynamoDb:CreateTable", "true")
            .With("Storage:DynamoDb:Timeout", "00:00:10")
            .WithServices(s => s.Replace(ServiceDescriptor.Singleton<IAmazonDynamoDB>(_ => dynamo.Local.CreateClient(options))));
        return Task.FromResult(broker);
    }
}

using Amazon.DynamoDBv2;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Admin;

/// <summary>
/// Admin tests written once and run on every store: each store's subclass builds the host, this class owns its
/// lifetime (one host per test).
/// </summary>
public abstract class PerStoreHostTests : IAsyncLifetime
{
    private BrokerFactory? broker;

    protected BrokerFactory Broker => broker ?? throw new InvalidOperationException("not initialised");

    protected abstract Task<BrokerFactory> CreateBrokerAsync();

    public async Task InitializeAsync() => broker = await CreateBrokerAsync();

    public async Task DisposeAsync()
    {
        if (broker is not null)
        {
            await broker.DisposeAsync();
        }
    }

    /// <summary>The host on DynamoDB Local (a fresh table per test), the production store.</summary>
    protected static BrokerFactory OnDynamoDbLocal(BrokerFactory broker, DynamoDbLocalFixture dynamo)
    {
        var options = dynamo.Options();
        return broker
            .With("Storage:Provider", "DynamoDb")
            .With("Storage:Sqlite:Path", null)
            .With("Storage:DynamoDb:TableName", options.TableName)
            .With("Storage:DynamoDb:ServiceUrl", options.ServiceUrl)
            .With("Storage:DynamoDb:Region", options.Region)
            .With("Storage:DynamoDb:CreateTable", "true")
            .With("Storage:DynamoDb:Timeout", "00:00:10")
            // Dummy credentials: the SDK must never look for real ones (or the instance-metadata endpoint).
            .WithServices(s => s.Replace(ServiceDescriptor.Singleton<IAmazonDynamoDB>(_ => dynamo.Local.CreateClient(options))));
    }
}

using Amazon.DynamoDBv2;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Storage.DynamoDb;

namespace SandboxBroker.Tests.Infrastructure;

/// <summary>
/// DynamoDB Local for a test collection: the process-wide instance, released (and stopped when no other collection
/// uses it) when the collection ends. Every store gets a table of its own, so tests never see each other's items.
/// </summary>
public sealed class DynamoDbLocalFixture : IAsyncLifetime
{
    private DynamoDbLocal? local;
    private AmazonDynamoDBClient? client;

    public DynamoDbLocal Local => local ?? throw new InvalidOperationException("the fixture is not initialised");

    /// <summary>A client for seeding and inspecting tables directly.</summary>
    public AmazonDynamoDBClient Client => client ?? throw new InvalidOperationException("the fixture is not initialised");

    public async Task InitializeAsync()
    {
        local = await DynamoDbLocal.SharedAsync();
        client = local.CreateClient();
    }

    public async Task DisposeAsync()
    {
        client?.Dispose();
        if (local is not null)
        {
            await DynamoDbLocal.ReleaseSharedAsync();
        }
    }

    /// <summary>A fresh, initialised store on a new table (CreateTable=true), or on <paramref name="table"/>.</summary>
    internal async Task<DynamoDbSandboxStore> CreateStoreAsync(
        string? table = null, IAmazonDynamoDB? through = null, ILogger<DynamoDbSandboxStore>? logger = null)
    {
        var options = Local.Options(table);
        var store = new DynamoDbSandboxStore(through ?? Client, options, logger ?? NullLogger<DynamoDbSandboxStore>.Instance);
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    internal DynamoDbStorageOptions Options(string? table = null) => Local.Options(table);
}

[CollectionDefinition(Name)]
public sealed class DynamoDbLocalCollection : ICollectionFixture<DynamoDbLocalFixture>
{
    public const string Name = "DynamoDbLocal";
}

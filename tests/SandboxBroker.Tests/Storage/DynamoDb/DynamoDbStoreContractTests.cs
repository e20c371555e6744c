using SandboxBroker.Api.Storage;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Storage.DynamoDb;

/// <summary>The store contract on DynamoDB Local, one fresh table per store.</summary>
[Collection(DynamoDbLocalCollection.Name)]
[Trait("Category", "DynamoDb")]
public sealed class DynamoDbStoreContractTests(DynamoDbLocalFixture dynamo) : StoreContractTests
{
    protected override async Task<ISandboxStore> CreateStoreAsync() => await dynamo.CreateStoreAsync();
}

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>DI wiring of the DynamoDB store (Storage:Provider=DynamoDb).</summary>
internal static class DynamoDbRegistration
{
    public static void Register(IServiceCollection services) =>
        throw new InvalidOperationException("The DynamoDB store is not available in this build yet.");
}

using Amazon.DynamoDBv2;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>DI wiring of the DynamoDB store (Storage:Provider=DynamoDb).</summary>
internal static class DynamoDbRegistration
{
    public static void Register(IServiceCollection services)
    {
        // TryAdd: tests (and hosts that configure the SDK themselves) may register their own client first.
        services.TryAddSingleton<IAmazonDynamoDB>(sp =>
            DynamoDbClientFactory.Create(sp.GetRequiredService<IOptions<StorageOptions>>().Value.DynamoDb));
        services.AddSingleton(sp => new DynamoDbSandboxStore(
            sp.GetRequiredService<IAmazonDynamoDB>(),
            sp.GetRequiredService<IOptions<StorageOptions>>().Value.DynamoDb,
            sp.GetRequiredService<ILogger<DynamoDbSandboxStore>>()));
        // The pool gauges are computed by one replica per period and read by the others (PoolGaugeRefresher).
        services.AddSingleton(sp => sp.GetRequiredService<DynamoDbSandboxStore>().CreatePeriodicShare(sp.GetRequiredService<TimeProvider>()));
        services.AddKeyedSingleton<ISandboxStore>(StorageExtensions.ChosenStore, (sp, _) => sp.GetRequiredService<DynamoDbSandboxStore>());
    }
}

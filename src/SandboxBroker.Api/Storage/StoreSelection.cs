namespace SandboxBroker.Api.Storage;

/// <summary>
/// Which store runs: Storage:Provider when set; else DynamoDB when a table name, service URL or
/// CreateTable is configured (or the original's DDB_* names; a region alone never selects it, since ECS and many
/// shells set AWS_REGION); else the embedded store, which in Production starts only when asked for explicitly
/// (an unchanged ECS deployment must never run one SQLite file per task).
/// </summary>
internal static class StoreSelection
{
    public static string Choose(IConfiguration configuration, IHostEnvironment environment)
    {
        var section = configuration.GetSection(StorageOptions.SectionName);
        var provider = section["Provider"];
        if (!string.IsNullOrWhiteSpace(provider))
        {
            if (provider.Equals(StorageOptions.SqliteProvider, StringComparison.OrdinalIgnoreCase))
            {
                return StorageOptions.SqliteProvider;
            }

            if (provider.Equals(StorageOptions.DynamoDbProvider, StringComparison.OrdinalIgnoreCase))
            {
                return StorageOptions.DynamoDbProvider;
            }

            throw new InvalidOperationException($"Storage:Provider must be '{StorageOptions.SqliteProvider}' or '{StorageOptions.DynamoDbProvider}', not '{provider}'.");
        }

        var dynamo = section.GetSection("DynamoDb");
        if (IsSet(dynamo["ServiceUrl"]) || dynamo.GetValue<bool>("CreateTable") || TableNameConfigured(configuration))
        {
            return StorageOptions.DynamoDbProvider;
        }

        if (environment.IsProduction() && !IsSet(section.GetSection("Sqlite")["Path"], explicitOnly: true, configuration))
        {
            throw new InvalidOperationException(
                "No store configured for Production: set Storage:Provider=DynamoDb (with Storage:DynamoDb:TableName), " +
                "or Storage:Provider=Sqlite / Storage:Sqlite:Path for a single-node embedded store.");
        }

        return StorageOptions.SqliteProvider;
    }

    /// <summary>A table name counts only when it was set outside appsettings.json, which carries the default.</summary>
    private static bool TableNameConfigured(IConfiguration configuration) =>
        ExplicitlySet(configuration, "Storage:DynamoDb:TableName");

    private static bool IsSet(string? value) => !string.IsNullOrWhiteSpace(value);

    private static bool IsSet(string? value, bool explicitOnly, IConfiguration configuration) =>
        IsSet(value) && (!explicitOnly || ExplicitlySet(configuration, "Storage:Sqlite:Path"));

    /// <summary>True when a key's value comes from a source other than the appsettings JSON files (defaults live there).</summary>
    private static bool ExplicitlySet(IConfiguration configuration, string key)
    {
        if (configuration is not IConfigurationRoot root)
        {
            return IsSet(configuration[key]);
        }

        foreach (var provider in root.Providers.Reverse())
        {
            if (provider.TryGet(key, out var value) && IsSet(value))
            {
                return provider is not Microsoft.Extensions.Configuration.Json.JsonConfigurationProvider;
            }
        }

        return false;
    }
}

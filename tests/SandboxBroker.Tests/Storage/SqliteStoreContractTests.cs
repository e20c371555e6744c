using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Storage.Sqlite;

namespace SandboxBroker.Tests.Storage;

/// <summary>The store contract on the embedded SQLite store, one fresh database file per test.</summary>
public sealed class SqliteStoreContractTests : StoreContractTests, IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "sbx-sqlite-tests", Guid.NewGuid().ToString("N"));
    private readonly List<SqliteSandboxStore> stores = [];

    protected override async Task<ISandboxStore> CreateStoreAsync()
    {
        Directory.CreateDirectory(directory);
        var store = new SqliteSandboxStore(Path.Combine(directory, $"store-{stores.Count}.db"));
        stores.Add(store);
        await store.InitializeAsync(default);
        return store;
    }

    public void Dispose()
    {
        foreach (var store in stores)
        {
            store.Dispose();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

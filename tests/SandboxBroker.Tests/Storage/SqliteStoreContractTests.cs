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

    [Fact]
    public async Task Candidates_are_the_lowest_available_names_in_index_order()
    {
        // One writer runs every allocation, so nothing competes for a window: taking the lowest available names keeps
        // each allocation's writes next to the previous one's, whatever the pool size (issue 20).
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 40);
        for (var i = 0; i < 5; i++)
        {
            await store.TryClaimAsync(Claim(i.ToString("D4"), $"user-{i}"), default);
        }

        var candidates = await store.FindAvailableAsync(null, 15, default);
        Assert.Equal(Enumerable.Range(5, 15).Select(i => $"sbx-{i:D4}"), candidates.Select(c => c.Name));
        var prefixed = await store.FindAvailableAsync("sbx-003", 15, default);
        Assert.Equal(Enumerable.Range(30, 10).Select(i => $"sbx-{i:D4}"), prefixed.Select(c => c.Name));
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

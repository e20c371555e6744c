using Microsoft.Data.Sqlite;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Storage.Sqlite;

namespace SandboxBroker.Tests.Storage;

/// <summary>A file written before the cleanup pipeline (SPEC 12) gains its columns at start-up and keeps its rows.</summary>
public sealed class SqliteSchemaUpgradeTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("sbx-upgrade").FullName;

    [Fact]
    public async Task A_file_without_the_verification_and_niosxaas_columns_is_upgraded_in_place()
    {
        var path = Path.Combine(directory, "old.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=false"))
        {
            connection.Open();
            using var create = connection.CreateCommand();
            create.CommandText = """
                CREATE TABLE sandboxes (
                    sandbox_id TEXT NOT NULL PRIMARY KEY, name TEXT NOT NULL, external_id TEXT NOT NULL, status TEXT NOT NULL,
                    allocated_to_track TEXT, allocated_at INTEGER NOT NULL DEFAULT 0, idempotency_key TEXT, track_name TEXT,
                    expires_at INTEGER, lab_duration_hours REAL NOT NULL, deletion_requested_at INTEGER,
                    deletion_retry_count INTEGER NOT NULL DEFAULT 0, last_error TEXT, next_attempt_at INTEGER, last_synced INTEGER,
                    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, sfdc_account_id TEXT, deleted_at INTEGER, rnd INTEGER NOT NULL,
                    history TEXT NOT NULL DEFAULT '[]');
                INSERT INTO sandboxes (sandbox_id, name, external_id, status, allocated_to_track, lab_duration_hours, created_at, updated_at,
                    deleted_at, rnd) VALUES ('3000001', 'lab-0001', 'identity/accounts/u1', 'deleted', 'alice', 4, 100, 200, 200, 7);
                """;
            create.ExecuteNonQuery();
        }

        using var store = new SqliteSandboxStore(path);
        await store.InitializeAsync(CancellationToken.None);

        var old = (await store.GetAsync("3000001", CancellationToken.None))!;
        Assert.Equal((SandboxStatus.Deleted, (long?)null, (long?)null, false), (old.Status, old.DeletionVerifiedAt, old.NiosxaasCleanedAt, old.NiosxaasCleanupSkipped));
        Assert.True(old.IsUnverifiedDeletion); // a tombstone from before verification is checked by the next sync
        Assert.Equal(1, (await store.CountAsync(null, CancellationToken.None)).UnverifiedDeletions);
        var verified = await store.TransitionAsync(Transitions.VerifyDeletion("3000001", 300, TestCause.Setup), CancellationToken.None);
        Assert.Equal(300, Assert.IsType<TransitionResult.Applied>(verified).Sandbox.DeletionVerifiedAt);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }
}

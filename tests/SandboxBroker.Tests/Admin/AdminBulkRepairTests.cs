using System.Net;
using SandboxBroker.Api.Sandboxes;
using static SandboxBroker.Tests.Admin.AdminTestKit;

namespace SandboxBroker.Tests.Admin;

/// <summary>bulk-delete and retry-deletion of every failed one: only from the states they allow, with dry runs that change nothing.</summary>
public sealed class AdminBulkRepairTests : IAsyncLifetime
{
    private readonly Infrastructure.BrokerFactory broker = EmptyBroker();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await broker.DisposeAsync();

    [Theory]
    [InlineData("allocated")]
    [InlineData("available")]
    [InlineData("pending_deletion")]
    [InlineData("deleted")]
    [InlineData("")]
    [InlineData("bogus")]
    public async Task Bulk_delete_of_any_status_but_stale_or_deletion_failed_is_a_400(string status)
    {
        using var admin = broker.AdminClient();
        await RegisterAsync(admin, "b-1");
        var held = await AllocateAsync(broker, "holder");
        using var response = await admin.PostAsync($"/v1/admin/bulk-delete?status={status}", null);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        Assert.Equal(SandboxStatus.Allocated, (await StoredAsync(broker, held))!.Status);
    }

    [Fact]
    public async Task Bulk_delete_of_stale_tombstones_only_stale_and_a_dry_run_changes_nothing()
    {
        using var admin = broker.AdminClient();
        await RegisterAsync(admin, "st-1", "st-2", "st-3", "keep-1");
        foreach (var id in new[] { "st-1", "st-2", "st-3" })
        {
            await MoveAsync(broker, id, SandboxStatus.Available, SandboxStatus.Stale);
        }

        var dry = await PostOkAsync(admin, "/v1/admin/bulk-delete?status=stale&dry_run=true");
        Assert.Equal((3, true, "completed"), (dry.GetProperty("deleted").GetInt32(), dry.GetProperty("dry_run").GetBoolean(), dry.GetProperty("status").GetString()));
        Assert.Equal(3, (await GetOkAsync(admin, "/v1/admin/stats")).GetProperty("stale").GetInt64());

        var real = await PostOkAsync(admin, "/v1/admin/bulk-delete?status=stale&dry_run=false");
        Assert.Equal((3, false), (real.GetProperty("deleted").GetInt32(), real.GetProperty("dry_run").GetBoolean()));
        Assert.True(real.GetProperty("duration_ms").GetInt64() >= 0);
        foreach (var id in new[] { "st-1", "st-2", "st-3" })
        {
            var stored = await StoredAsync(broker, id);
            Assert.Equal(SandboxStatus.Deleted, stored!.Status);
            Assert.NotNull(stored.DeletedAt);
            using var get = await admin.GetAsync($"/v1/admin/sandboxes/{id}");
            await AssertProblemAsync(get, HttpStatusCode.NotFound, "SANDBOX_NOT_FOUND");
        }

        Assert.Equal(SandboxStatus.Available, (await StoredAsync(broker, "keep-1"))!.Status);
        Assert.Equal(0, (await PostOkAsync(admin, "/v1/admin/bulk-delete?status=stale")).GetProperty("deleted").GetInt32());
    }

    [Fact]
    public async Task Bulk_delete_of_deletion_failed_tombstones_them()
    {
        using var admin = broker.AdminClient();
        await RegisterAsync(admin, "df-1", "df-2");
        var failed = await FailedDeletionAsync(broker, "p1");
        var body = await PostOkAsync(admin, "/v1/admin/bulk-delete?status=deletion_failed");
        Assert.Equal(1, body.GetProperty("deleted").GetInt32());
        Assert.Equal(SandboxStatus.Deleted, (await StoredAsync(broker, failed))!.Status);
        Assert.Equal(1, (await GetOkAsync(admin, "/v1/admin/stats")).GetProperty("available").GetInt64());
    }

    [Fact]
    public async Task Retry_all_deletions_moves_every_failed_one_and_a_dry_run_only_counts()
    {
        using var admin = broker.AdminClient();
        await RegisterAsync(admin, "ra-1", "ra-2", "ra-3", "ra-4");
        var failed = new[] { await FailedDeletionAsync(broker, "p1"), await FailedDeletionAsync(broker, "p2"), await FailedDeletionAsync(broker, "p3") };

        var dry = await PostOkAsync(admin, "/v1/admin/retry-deletion?dry_run=true");
        Assert.Equal((3, true), (dry.GetProperty("retried").GetInt32(), dry.GetProperty("dry_run").GetBoolean()));
        Assert.Equal(3, (await GetOkAsync(admin, "/v1/admin/stats")).GetProperty("deletion_failed").GetInt64());

        var real = await PostOkAsync(admin, "/v1/admin/retry-deletion");
        Assert.Equal((3, false, "completed"), (real.GetProperty("retried").GetInt32(), real.GetProperty("dry_run").GetBoolean(), real.GetProperty("status").GetString()));
        foreach (var id in failed)
        {
            var stored = (await StoredAsync(broker, id))!;
            Assert.Equal((SandboxStatus.PendingDeletion, 0, null), (stored.Status, stored.DeletionRetryCount, stored.LastError));
        }

        using var bad = await admin.PostAsync("/v1/admin/retry-deletion?dry_run=maybe", null);
        await AssertProblemAsync(bad, HttpStatusCode.BadRequest, "VALIDATION_ERROR");
    }
}

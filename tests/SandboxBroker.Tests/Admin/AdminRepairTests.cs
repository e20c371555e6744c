using System.Net;
using SandboxBroker.Api.Sandboxes;
using static SandboxBroker.Tests.Admin.AdminTestKit;

namespace SandboxBroker.Tests.Admin;

/// <summary>Release, retry-deletion and bulk-delete: conditional transitions from the one state each allows.</summary>
public sealed class AdminRepairTests : IAsyncLifetime
{
    private readonly Infrastructure.BrokerFactory broker = EmptyBroker();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await broker.DisposeAsync();

    private async Task<string> FailedDeletionAsync(HttpClient admin, string requester)
    {
        var id = await AllocateAsync(broker, requester);
        await PostOkAsync(admin, $"/v1/admin/sandboxes/{id}/release");
        await MoveAsync(broker, id, SandboxStatus.PendingDeletion, SandboxStatus.DeletionFailed, "CSP answered 500");
        return id;
    }

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
        var failed = await FailedDeletionAsync(admin, "p1");
        var body = await PostOkAsync(admin, "/v1/admin/bulk-delete?status=deletion_failed");
        Assert.Equal(1, body.GetProperty("deleted").GetInt32());
        Assert.Equal(SandboxStatus.Deleted, (await StoredAsync(broker, failed))!.Status);
        Assert.Equal(1, (await GetOkAsync(admin, "/v1/admin/stats")).GetProperty("available").GetInt64());
    }

    [Fact]
    public async Task Retry_deletion_moves_a_failed_sandbox_back_to_pending_with_a_fresh_budget()
    {
        using var admin = broker.AdminClient();
        await RegisterAsync(admin, "rd-1");
        var failed = await FailedDeletionAsync(admin, "p1");
        Assert.Equal(5, (await StoredAsync(broker, failed))!.DeletionRetryCount);

        var body = await PostOkAsync(admin, $"/v1/admin/sandboxes/{failed}/retry-deletion");
        Assert.Equal("pending_deletion", body.GetProperty("status").GetString());
        Assert.Equal(0, body.GetProperty("deletion_retry_count").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, body.GetProperty("last_error").ValueKind);
        Assert.True(body.GetProperty("next_attempt_at").GetInt64() > 0);

        // A second retry finds it pending, not failed: refused like every other state.
        using var again = await admin.PostAsync($"/v1/admin/sandboxes/{failed}/retry-deletion", null);
        await AssertProblemAsync(again, HttpStatusCode.Conflict, "INVALID_STATE");
    }

    [Fact]
    public async Task Retry_deletion_from_any_state_but_deletion_failed_is_refused_with_a_problem()
    {
        using var admin = broker.AdminClient();
        await RegisterAsync(admin, "a-1", "a-2", "a-3", "a-4", "a-5");
        var allocated = await AllocateAsync(broker, "p1");
        var pending = await AllocateAsync(broker, "p2");
        await PostOkAsync(admin, $"/v1/admin/sandboxes/{pending}/release");
        var available = (await ListAllIdsAsync(admin, "status=available"))[0];
        var stale = (await ListAllIdsAsync(admin, "status=available"))[1];
        await MoveAsync(broker, stale, SandboxStatus.Available, SandboxStatus.Stale);

        foreach (var (id, status) in new[] { (allocated, "allocated"), (pending, "pending_deletion"), (available, "available"), (stale, "stale") })
        {
            var before = await StoredAsync(broker, id);
            using var response = await admin.PostAsync($"/v1/admin/sandboxes/{id}/retry-deletion", null);
            var problem = await AssertProblemAsync(response, HttpStatusCode.Conflict, "INVALID_STATE");
            Assert.Contains(status, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal(before, await StoredAsync(broker, id));
        }

        await MoveAsync(broker, stale, SandboxStatus.Stale, SandboxStatus.Deleted);
        foreach (var id in new[] { stale, "never-registered" })
        {
            using var response = await admin.PostAsync($"/v1/admin/sandboxes/{id}/retry-deletion", null);
            await AssertProblemAsync(response, HttpStatusCode.NotFound, "SANDBOX_NOT_FOUND");
        }
    }

    [Fact]
    public async Task Retry_all_deletions_moves_every_failed_one_and_a_dry_run_only_counts()
    {
        using var admin = broker.AdminClient();
        await RegisterAsync(admin, "ra-1", "ra-2", "ra-3", "ra-4");
        var failed = new[] { await FailedDeletionAsync(admin, "p1"), await FailedDeletionAsync(admin, "p2"), await FailedDeletionAsync(admin, "p3") };

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

    [Fact]
    public async Task Release_moves_allocated_to_pending_deletion_and_answers_200_on_repeat()
    {
        using var admin = broker.AdminClient();
        await RegisterAsync(admin, "rl-1", "rl-2");
        var held = await AllocateAsync(broker, "participant");

        var first = await PostOkAsync(admin, $"/v1/admin/sandboxes/{held}/release");
        Assert.Equal(("pending_deletion", "participant"), (first.GetProperty("status").GetString(), first.GetProperty("allocated_to_track").GetString()));
        Assert.True(first.GetProperty("deletion_requested_at").GetInt64() > 0);
        var repeat = await PostOkAsync(admin, $"/v1/admin/sandboxes/{held}/release");
        Assert.Equal(first.GetProperty("deletion_requested_at").GetInt64(), repeat.GetProperty("deletion_requested_at").GetInt64());

        var available = held == "rl-1" ? "rl-2" : "rl-1";
        using var fromAvailable = await admin.PostAsync($"/v1/admin/sandboxes/{available}/release", null);
        await AssertProblemAsync(fromAvailable, HttpStatusCode.Conflict, "INVALID_STATE");
        Assert.Equal(SandboxStatus.Available, (await StoredAsync(broker, available))!.Status);

        using var missing = await admin.PostAsync("/v1/admin/sandboxes/nope/release", null);
        await AssertProblemAsync(missing, HttpStatusCode.NotFound, "SANDBOX_NOT_FOUND");
    }
}

using System.Net;
using SandboxBroker.Api.Sandboxes;
using static SandboxBroker.Tests.Admin.AdminTestKit;

namespace SandboxBroker.Tests.Admin;

/// <summary>Release and retry-deletion of one sandbox: conditional transitions from the one state each allows.</summary>
public sealed class AdminRepairTests : IAsyncLifetime
{
    private readonly Infrastructure.BrokerFactory broker = EmptyBroker();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await broker.DisposeAsync();

    [Fact]
    public async Task Retry_deletion_moves_a_failed_sandbox_back_to_pending_with_a_fresh_budget()
    {
        using var admin = broker.AdminClient();
        await RegisterAsync(admin, "rd-1");
        var failed = await FailedDeletionAsync(broker, "p1");
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

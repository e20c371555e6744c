using Microsoft.Extensions.Logging;
using SandboxBroker.Api.Csp;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Workers.Cleanup;
using SandboxBroker.Tests.Workers.Support;

namespace SandboxBroker.Tests.Workers;

/// <summary>Sync through the live client against the fake CSP: the pool it builds and the blast-radius guard.</summary>
public sealed class SyncServiceTests
{
    [Fact]
    public async Task Sync_turns_the_active_sandbox_accounts_into_the_available_pool()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 30);

        var result = await h.SyncAsync();

        Assert.Equal((30, 30, 0, false), (result.Synced, result.Created, result.MarkedStale, result.Guarded));
        var counts = await h.CountsAsync();
        Assert.Equal((30L, 30L), (counts.Available, counts.Total));
        var sandbox = await h.GetAsync("3000007");
        Assert.Equal(("lab-csp-0007", "SFDC00007", "identity/accounts/00000000-0000-0000-0000-000000000008"),
            (sandbox.Name, sandbox.SfdcAccountId, sandbox.ExternalId));
    }

    [Fact]
    public async Task An_empty_upstream_list_marks_nothing_stale_and_warns()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 20);
        await h.SyncAsync();
        h.Csp.Faults.EmptyList = true;

        var result = await h.SyncAsync();

        Assert.True(result.Guarded);
        Assert.Equal(0, result.MarkedStale);
        Assert.Equal(20, (await h.CountsAsync()).Available);
        Assert.Contains(h.Logs.GetSnapshot(), r => r.Level == LogLevel.Warning && r.Message.Contains("guard held", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task An_upstream_list_missing_most_sandboxes_marks_nothing_stale_and_warns()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 20);
        await h.SyncAsync();
        h.Csp.Remove(a => a.Name.CompareTo("lab-csp-0015") < 0 && a.AccountType == "sandbox"); // 15 of 20 gone

        var result = await h.SyncAsync();

        Assert.True(result.Guarded);
        Assert.Equal(0, result.MarkedStale);
        Assert.Equal(0, (await h.CountsAsync()).Stale);
        Assert.Contains(h.Logs.GetSnapshot(), r => r.Level == LogLevel.Warning && r.Message.Contains("15 of 20", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_few_missing_sandboxes_go_stale_and_come_back_when_they_reappear()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 20);
        await h.SyncAsync();
        var gone = h.Csp.ActiveSandboxes.Take(3).ToList();
        h.Csp.Remove(gone.Contains);

        var staled = await h.SyncAsync();
        Assert.Equal((3, false), (staled.MarkedStale, staled.Guarded));
        Assert.All(gone, a => Assert.Equal(SandboxStatus.Stale, h.GetAsync(a.CspId.ToString(System.Globalization.CultureInfo.InvariantCulture)).Result.Status));

        foreach (var account in gone)
        {
            h.Csp.Add(account);
        }

        var revived = await h.SyncAsync();
        Assert.Equal(3, revived.Revived);
        Assert.Equal(20, (await h.CountsAsync()).Available);
    }

    [Fact]
    public async Task Sync_never_touches_allocated_pending_or_deleted_sandboxes_even_while_csp_still_lists_them()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 10);
        await h.SyncAsync();
        var allocated = (await h.AllocateAsync(1))[0];
        h.Csp.Faults.Linger = true; // CSP answers 204 but keeps listing the account
        var deleted = (await h.PendingDeletionAsync(1))[0];
        Assert.Equal(1, (await h.Get<CleanupService>().RunOnceAsync(CancellationToken.None)).Deleted);
        var pending = await h.PendingDeletionAsync(2);

        var result = await h.SyncAsync();

        Assert.Equal(0, result.Created + result.Revived);
        Assert.Equal(SandboxStatus.Allocated, (await h.GetAsync(allocated.SandboxId)).Status);
        Assert.Equal(SandboxStatus.Deleted, (await h.GetAsync(deleted.SandboxId)).Status);
        Assert.All(pending, p => Assert.Equal(SandboxStatus.PendingDeletion, h.GetAsync(p.SandboxId).Result.Status));
        Assert.Equal(6, (await h.CountsAsync()).Available); // 10 - 1 allocated - 1 deleted - 2 pending
    }

    [Fact]
    public async Task A_failing_csp_fails_the_sync_and_changes_nothing()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 10);
        await h.SyncAsync();
        h.Csp.FailNextCalls(1);

        var error = await Assert.ThrowsAsync<CspException>(h.SyncAsync);

        Assert.Equal(500, error.StatusCode);
        Assert.Equal(10, (await h.CountsAsync()).Available);
    }
}

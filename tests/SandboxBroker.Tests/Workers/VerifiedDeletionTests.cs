using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Workers.Cleanup;
using SandboxBroker.Api.Workers.Runner;
using SandboxBroker.Tests.Workers.Support;

namespace SandboxBroker.Tests.Workers;

/// <summary>
/// SPEC 12, step 3: a CSP 2xx is not proof. Cleanup's tombstone stays unverified until a sync no longer sees the account;
/// one still listed Jobs:Cleanup:VerifyWithin after its delete comes back for deletion, never as available.
/// </summary>
public sealed class VerifiedDeletionTests
{
    [Fact]
    public async Task A_deleted_account_gone_upstream_is_verified_by_the_next_sync()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 6);
        await h.SyncAsync();
        var sandbox = (await h.PendingDeletionAsync(1))[0];
        await h.Get<CleanupService>().RunOnceAsync(CancellationToken.None);
        Assert.True((await h.GetAsync(sandbox.SandboxId)).IsUnverifiedDeletion);
        Assert.Equal(1, (await h.CountsAsync()).UnverifiedDeletions);

        h.Time.Advance(TimeSpan.FromMinutes(1));
        var progress = new JobProgress();
        var sync = await h.Get<Api.Workers.Sync.SyncService>().RunOnceAsync(progress, CancellationToken.None);

        Assert.Equal((1, 0), (sync.Verified, sync.Relisted));
        Assert.Equal(1, progress.Snapshot().GetValueOrDefault("verified"));
        var record = await h.GetAsync(sandbox.SandboxId);
        Assert.Equal((SandboxStatus.Deleted, h.Time.NowEpochSeconds()), (record.Status, record.DeletionVerifiedAt));
        Assert.Equal(0, (await h.CountsAsync()).UnverifiedDeletions);
        var last = (await h.Store.GetHistoryAsync(sandbox.SandboxId, CancellationToken.None))!.Events[^1];
        Assert.Equal(("deleted", "deleted", "job:sync"), (last.From, last.To, last.Actor));
        Assert.Contains("verified", last.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_account_still_listed_after_verify_within_is_deleted_again_and_then_verified()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 6);
        await h.SyncAsync();
        var sandbox = (await h.PendingDeletionAsync(1))[0];
        h.Csp.Faults.Linger = true; // CSP answers 204 and keeps listing the account
        var cleanup = h.Get<CleanupService>();
        await cleanup.RunOnceAsync(CancellationToken.None);

        h.Time.Advance(TimeSpan.FromMinutes(29));
        var early = await h.SyncAsync();
        Assert.Equal((0, 0), (early.Verified, early.Relisted)); // CSP's lag, not yet a failure
        Assert.True((await h.GetAsync(sandbox.SandboxId)).IsUnverifiedDeletion);

        h.Time.Advance(TimeSpan.FromMinutes(1));
        var late = await h.SyncAsync();
        Assert.Equal(1, late.Relisted);
        var back = await h.GetAsync(sandbox.SandboxId);
        Assert.Equal((SandboxStatus.PendingDeletion, 1, (long?)null), (back.Status, back.DeletionRetryCount, back.DeletedAt));
        Assert.Equal(5, (await h.CountsAsync()).Available); // never back to available
        var events = (await h.Store.GetHistoryAsync(sandbox.SandboxId, CancellationToken.None))!.Events;
        Assert.Equal(("deleted", "pending_deletion", "still listed upstream"), (events[^1].From, events[^1].To, events[^1].Reason));

        h.Csp.Faults.Linger = false;
        var again = await cleanup.RunOnceAsync(CancellationToken.None);
        Assert.Equal(1, again.Deleted);
        Assert.Equal(2, h.Csp.Deletes(Api.Csp.CspAccounts.UuidOf(sandbox.ExternalId)).Count);
        await h.SyncAsync();
        var verified = await h.GetAsync(sandbox.SandboxId);
        Assert.Equal(SandboxStatus.Deleted, verified.Status);
        Assert.NotNull(verified.DeletionVerifiedAt);
    }

    [Fact]
    public async Task An_account_csp_never_lets_go_ends_deletion_failed_after_max_attempts()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 6, settings: new Dictionary<string, string?>
        {
            ["Jobs:Cleanup:MaxAttempts"] = "3",
            ["Jobs:Cleanup:VerifyWithin"] = "00:05:00",
        });
        await h.SyncAsync();
        var sandbox = (await h.PendingDeletionAsync(1))[0];
        h.Csp.Faults.Linger = true;
        var cleanup = h.Get<CleanupService>();

        var statuses = new List<SandboxStatus>();
        for (var round = 0; round < 4 && statuses.LastOrDefault() != SandboxStatus.DeletionFailed; round++)
        {
            await cleanup.RunOnceAsync(CancellationToken.None);
            h.Time.Advance(TimeSpan.FromMinutes(6));
            await h.SyncAsync();
            statuses.Add((await h.GetAsync(sandbox.SandboxId)).Status);
        }

        Assert.Equal([SandboxStatus.PendingDeletion, SandboxStatus.PendingDeletion, SandboxStatus.DeletionFailed], statuses);
        Assert.Equal(3, (await h.GetAsync(sandbox.SandboxId)).DeletionRetryCount);
        Assert.Equal(3, h.Csp.Deletes().Count);
    }

    [Fact]
    public async Task A_guarded_sync_verifies_nothing_and_sends_nothing_back()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 6);
        await h.SyncAsync();
        var sandbox = (await h.PendingDeletionAsync(1))[0];
        await h.Get<CleanupService>().RunOnceAsync(CancellationToken.None);
        h.Csp.Faults.EmptyList = true; // an empty list is never believed
        h.Time.Advance(TimeSpan.FromHours(1));

        var result = await h.SyncAsync();

        Assert.True(result.Guarded);
        Assert.Equal((0, 0), (result.Verified, result.Relisted));
        Assert.True((await h.GetAsync(sandbox.SandboxId)).IsUnverifiedDeletion);
    }

    [Fact]
    public async Task The_unverified_count_reaches_the_gauge()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 6);
        await h.SyncAsync();
        await h.PendingDeletionAsync(2);
        await h.Get<CleanupService>().RunOnceAsync(CancellationToken.None);
        var metrics = h.Get<BrokerMetrics>();

        metrics.SetPool(await h.CountsAsync(), h.Time.NowEpochSeconds());
        Assert.Equal(2, metrics.PoolUnverifiedDeletions.Value);
        await h.SyncAsync();
        metrics.SetPool(await h.CountsAsync(), h.Time.NowEpochSeconds());
        Assert.Equal(0, metrics.PoolUnverifiedDeletions.Value);
    }
}

using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Workers.Cleanup;
using SandboxBroker.Api.Workers.StalePurge;
using SandboxBroker.Tests.Workers.Support;

namespace SandboxBroker.Tests.Workers;

/// <summary>Stale records become tombstones after the grace; old tombstones go only once CSP no longer lists them.</summary>
public sealed class StalePurgeServiceTests
{
    private static readonly Dictionary<string, string?> Settings = new() { ["Broker:TombstoneRetention"] = "1.00:00:00" };

    [Fact]
    public async Task Stale_records_older_than_the_grace_become_tombstones_and_younger_ones_stay()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 20, settings: Settings);
        await h.SyncAsync();
        var first = h.Csp.ActiveSandboxes.Take(2).ToList();
        h.Csp.Remove(first.Contains);
        await h.SyncAsync();                            // 2 stale at t0
        h.Time.Advance(TimeSpan.FromHours(12));
        var second = h.Csp.ActiveSandboxes.Take(2).ToList();
        h.Csp.Remove(second.Contains);
        await h.SyncAsync();                            // 2 more stale at t0 + 12 h
        h.Time.Advance(TimeSpan.FromHours(12));

        var result = await h.Get<StalePurgeService>().RunOnceAsync(TimeSpan.FromHours(24), CancellationToken.None);

        Assert.Equal(2, result.Deleted);
        var counts = await h.CountsAsync();
        Assert.Equal((2L, 2L), (counts.Stale, counts.Deleted));
        var tombstone = await h.GetAsync(first[0].CspId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal((SandboxStatus.Deleted, h.Time.NowEpochSeconds()), (tombstone.Status, tombstone.DeletedAt));
    }

    [Fact]
    public async Task A_grace_of_zero_tombstones_every_stale_record()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 10, settings: Settings);
        await h.SyncAsync();
        h.Csp.Remove(h.Csp.ActiveSandboxes.Take(3).ToList().Contains);
        await h.SyncAsync();

        Assert.Equal(3, (await h.Get<StalePurgeService>().RunOnceAsync(TimeSpan.Zero, CancellationToken.None)).Deleted);
    }

    [Fact]
    public async Task Tombstones_past_retention_are_purged_only_once_csp_no_longer_lists_them()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 6, settings: Settings);
        await h.SyncAsync();
        h.Csp.Faults.Linger = true;
        var lingering = (await h.PendingDeletionAsync(1))[0];
        await h.Get<CleanupService>().RunOnceAsync(CancellationToken.None);   // tombstone, still listed upstream
        h.Csp.Faults.Linger = false;
        var gone = (await h.PendingDeletionAsync(1))[0];
        await h.Get<CleanupService>().RunOnceAsync(CancellationToken.None);   // tombstone, gone upstream
        var purge = h.Get<StalePurgeService>();

        Assert.Equal(0, (await purge.RunOnceAsync(TimeSpan.FromHours(24), CancellationToken.None)).Purged); // within retention
        h.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        var result = await purge.RunOnceAsync(TimeSpan.FromHours(24), CancellationToken.None);

        Assert.Equal((1, false), (result.Purged, result.PurgeSkipped));
        Assert.Null(await h.Store.GetAsync(gone.SandboxId, CancellationToken.None));
        Assert.Equal(SandboxStatus.Deleted, (await h.GetAsync(lingering.SandboxId)).Status); // kept: CSP still lists it

        // Still listed a day after its delete: verified deletion (SPEC 12) sends it back to pending_deletion, never available.
        await h.SyncAsync();
        Assert.Equal(SandboxStatus.PendingDeletion, (await h.GetAsync(lingering.SandboxId)).Status);
    }

    [Fact]
    public async Task When_the_csp_list_fails_or_is_empty_no_tombstone_is_purged()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 4, settings: Settings);
        await h.SyncAsync();
        var deleted = (await h.PendingDeletionAsync(1))[0];
        await h.Get<CleanupService>().RunOnceAsync(CancellationToken.None);
        h.Time.Advance(TimeSpan.FromDays(2));
        var purge = h.Get<StalePurgeService>();

        h.Csp.Faults.Down = true;
        var failed = await purge.RunOnceAsync(TimeSpan.FromHours(24), CancellationToken.None);
        h.Csp.Faults.Down = false;
        h.Csp.Faults.EmptyList = true;
        var empty = await purge.RunOnceAsync(TimeSpan.FromHours(24), CancellationToken.None);

        Assert.Equal((0, true), (failed.Purged, failed.PurgeSkipped));
        Assert.Equal((0, true), (empty.Purged, empty.PurgeSkipped));
        Assert.Equal(SandboxStatus.Deleted, (await h.GetAsync(deleted.SandboxId)).Status);
    }

    [Fact]
    public async Task A_tombstone_whose_account_csp_still_lists_in_another_state_is_kept()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 6, settings: Settings);
        await h.SyncAsync();
        h.Csp.Faults.ListDeletedAccounts = true; // deleted upstream, but still listed, in state "deleted"
        var listedAsDeleted = (await h.PendingDeletionAsync(1))[0];
        await h.Get<CleanupService>().RunOnceAsync(CancellationToken.None);
        h.Csp.Faults.ListDeletedAccounts = false;
        var gone = (await h.PendingDeletionAsync(1))[0];
        await h.Get<CleanupService>().RunOnceAsync(CancellationToken.None);
        h.Time.Advance(TimeSpan.FromDays(2));

        var result = await h.Get<StalePurgeService>().RunOnceAsync(TimeSpan.FromHours(24), CancellationToken.None);

        Assert.Equal((1, false), (result.Purged, result.PurgeSkipped));
        Assert.Null(await h.Store.GetAsync(gone.SandboxId, CancellationToken.None));
        Assert.Equal(SandboxStatus.Deleted, (await h.GetAsync(listedAsDeleted.SandboxId)).Status);
    }

    [Fact]
    public async Task A_tombstone_listed_on_a_later_page_is_kept_and_a_failed_page_purges_nothing()
    {
        var settings = new Dictionary<string, string?>(Settings) { ["Csp:ListPageSize"] = "2" };
        await using var h = await WorkerHarness.StartAsync(sandboxes: 10, settings: settings);
        await h.SyncAsync();
        h.Csp.Faults.Linger = true;
        var tombstones = await h.PendingDeletionAsync(10);
        await h.Get<CleanupService>().RunOnceAsync(CancellationToken.None); // ten tombstones, all still listed
        h.Csp.Remove(a => a.AccountType == "sandbox" && a.CspId < 3_000_005); // 0-4 gone; 5-9 on pages 1-3 of 4
        h.Time.Advance(TimeSpan.FromDays(2));
        var purge = h.Get<StalePurgeService>();

        h.Csp.Faults.FailListAtOffset = 4;
        var failed = await purge.RunOnceAsync(TimeSpan.FromHours(24), CancellationToken.None);
        h.Csp.Faults.FailListAtOffset = null;
        var result = await purge.RunOnceAsync(TimeSpan.FromHours(24), CancellationToken.None);

        Assert.Equal((0, true), (failed.Purged, failed.PurgeSkipped));
        Assert.Equal((5, false), (result.Purged, result.PurgeSkipped));
        Assert.Equal(SandboxStatus.Deleted, (await h.GetAsync("3000009")).Status); // listed on page 3
        Assert.Equal(5, tombstones.Count(t => string.CompareOrdinal(t.SandboxId, "3000005") >= 0));
    }
}

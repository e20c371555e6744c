using Microsoft.Data.Sqlite;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Workers.Expiry;
using SandboxBroker.Tests.Workers.Support;

namespace SandboxBroker.Tests.Workers;

/// <summary>Auto-expiry: allocated sandboxes past expires_at + Broker:GracePeriod go to pending_deletion, conditionally.</summary>
public sealed class ExpiryServiceTests
{
    private static readonly Dictionary<string, string?> Settings = new() { ["Broker:GracePeriod"] = "00:30:00" };

    [Fact]
    public async Task Allocations_past_expiry_plus_grace_are_marked_for_deletion_and_others_are_left_alone()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 5, settings: Settings);
        await h.SyncAsync();
        var early = (await h.AllocateAsync(1))[0];        // expires at start + 4 h
        h.Time.Advance(TimeSpan.FromHours(1));
        var late = (await h.AllocateAsync(1))[0];         // expires at start + 5 h
        var expiry = h.Get<ExpiryService>();

        h.Time.Advance(TimeSpan.FromHours(3) + TimeSpan.FromMinutes(29)); // 4 h 29 min: inside the grace
        Assert.Equal(0, (await expiry.RunOnceAsync(CancellationToken.None)).Expired);

        h.Time.Advance(TimeSpan.FromMinutes(1));                          // 4 h 30 min: grace over for the first
        Assert.Equal(1, (await expiry.RunOnceAsync(CancellationToken.None)).Expired);

        var expired = await h.GetAsync(early.SandboxId);
        var now = h.Time.NowEpochSeconds();
        Assert.Equal((SandboxStatus.PendingDeletion, early.AllocatedTo, now, now),
            (expired.Status, expired.AllocatedTo, expired.DeletionRequestedAt, expired.NextAttemptAt));
        Assert.Equal(SandboxStatus.Allocated, (await h.GetAsync(late.SandboxId)).Status);
    }

    [Fact]
    public async Task Items_the_original_wrote_expire_from_allocated_at_plus_lab_duration_hours()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 3, settings: Settings);
        await h.SyncAsync();
        var sandbox = (await h.AllocateAsync(1))[0];
        await using (var connection = new SqliteConnection(h.Store.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE sandboxes SET expires_at = NULL, lab_duration_hours = 2 WHERE sandbox_id = $id";
            command.Parameters.AddWithValue("$id", sandbox.SandboxId);
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }

        h.Time.Advance(TimeSpan.FromHours(2.5)); // past 2 h + 30 min, well before the 4 h default

        Assert.Equal(1, (await h.Get<ExpiryService>().RunOnceAsync(CancellationToken.None)).Expired);
        Assert.Equal(SandboxStatus.PendingDeletion, (await h.GetAsync(sandbox.SandboxId)).Status);
    }

    [Fact]
    public async Task A_sandbox_released_by_its_holder_meanwhile_is_not_touched_again()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 3, settings: Settings);
        await h.SyncAsync();
        var sandbox = (await h.PendingDeletionAsync(1))[0];
        var requestedAt = sandbox.DeletionRequestedAt;
        h.Time.Advance(TimeSpan.FromHours(10));

        Assert.Equal(0, (await h.Get<ExpiryService>().RunOnceAsync(CancellationToken.None)).Expired);
        Assert.Equal(requestedAt, (await h.GetAsync(sandbox.SandboxId)).DeletionRequestedAt);
    }

    [Fact]
    public async Task The_expiry_write_is_conditional_on_the_holder_it_read()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 3, settings: Settings);
        await h.SyncAsync();
        var sandbox = (await h.AllocateAsync(1))[0];

        var wrongHolder = new StateChange
        { Cause = TestCause.Setup,
            SandboxId = sandbox.SandboxId,
            From = SandboxStatus.Allocated,
            To = SandboxStatus.PendingDeletion,
            Now = h.Time.NowEpochSeconds(),
            RequireHolder = "someone-else",
        };

        Assert.IsType<TransitionResult.Conflict>(await h.Store.TransitionAsync(wrongHolder, CancellationToken.None));
        Assert.Equal(SandboxStatus.Allocated, (await h.GetAsync(sandbox.SandboxId)).Status);
    }
}

using SandboxBroker.Api.Csp;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Workers.Cleanup;
using SandboxBroker.Tests.Workers.Support;

namespace SandboxBroker.Tests.Workers;

/// <summary>The cleanup worker against the fake CSP over real HTTP, with the real circuit breaker and a fake clock.</summary>
public sealed class CleanupServiceTests
{
    [Fact]
    public async Task Twenty_sandboxes_whose_deletes_fail_twice_all_end_deleted_and_none_leaves_pending_before_csp_confirmed()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 20);
        await h.SyncAsync();
        var pending = await h.PendingDeletionAsync(20);
        h.Csp.Faults.FailFirst = 2;
        var csp = new CheckingCsp(h.Get<ICspProvider>(), h.Store, h.Time);
        var cleanup = h.CleanupWith(csp);

        var passes = 0;
        while ((await h.CountsAsync()).PendingDeletion > 0 && passes < 200)
        {
            await cleanup.RunOnceAsync(CancellationToken.None);
            await csp.AssertEveryTombstoneConfirmedAsync(); // after every pass, not only at the end
            passes++;
            h.Time.Advance(TimeSpan.FromSeconds(61)); // past the break (60 s) and the first backoff (60 s)
        }

        var counts = await h.CountsAsync();
        Assert.Equal(0, counts.PendingDeletion);
        Assert.Equal(0, counts.DeletionFailed);
        Assert.Equal(20, counts.Deleted);
        foreach (var sandbox in pending)
        {
            var record = await h.GetAsync(sandbox.SandboxId);
            Assert.Equal(SandboxStatus.Deleted, record.Status);
            Assert.NotNull(record.DeletedAt);
            Assert.Equal(2, record.DeletionRetryCount); // two failed attempts were counted
            var uuid = CspAccounts.UuidOf(sandbox.ExternalId);
            Assert.Equal([500, 500, 204], h.Csp.Deletes(uuid).Select(r => r.Status)); // one HTTP attempt per try, no hidden retry
        }
    }

    [Fact]
    public async Task With_csp_down_the_breaker_opens_after_five_failures_the_pass_stops_and_after_the_break_a_pass_deletes_them()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 20);
        await h.SyncAsync();
        await h.PendingDeletionAsync(20);
        h.Time.Advance(TimeSpan.FromMinutes(2)); // the sync's successful list call ages out of the breaker's window
        h.Csp.Faults.Down = true;
        var cleanup = h.Get<CleanupService>();

        var first = await cleanup.RunOnceAsync(CancellationToken.None);
        Assert.True(first.CircuitOpen);
        Assert.Equal(5, first.Failed);
        Assert.Equal(15, first.Skipped);
        Assert.Equal(0, first.Deleted);
        Assert.Equal(5, h.Csp.Deletes().Count); // the breaker stopped the 6th call before it left the process

        var pending = await ListAsync(h, SandboxStatus.PendingDeletion);
        Assert.Equal(20, pending.Count);
        Assert.Equal(5, pending.Count(s => s.DeletionRetryCount == 1 && s.LastError!.Contains("503", StringComparison.Ordinal)));
        Assert.Equal(15, pending.Count(s => s.DeletionRetryCount == 0 && s.LastError is null)); // attempts not burned

        var whileOpen = await cleanup.RunOnceAsync(CancellationToken.None);
        Assert.True(whileOpen.CircuitOpen);
        Assert.Equal(0, whileOpen.Failed);
        Assert.Equal(5, h.Csp.Deletes().Count);

        h.Csp.Faults.Down = false;
        h.Time.Advance(TimeSpan.FromSeconds(61));
        var after = await cleanup.RunOnceAsync(CancellationToken.None);
        Assert.False(after.CircuitOpen);
        Assert.Equal(20, after.Deleted);
        Assert.Equal(20, (await h.CountsAsync()).Deleted);
        Assert.Equal(0, (await h.CountsAsync()).PendingDeletion);
        var metrics = h.Get<BrokerMetrics>();
        Assert.Equal((2.0, 1.0, 0.0), (metrics.CleanupTotal.WithLabels("skipped").Value, metrics.CleanupTotal.WithLabels("success").Value,
            metrics.CleanupTotal.WithLabels("error").Value)); // a paused pass is not an error pass
        Assert.Equal(3, metrics.CleanupDuration.Count);
    }

    [Fact]
    public async Task Failures_back_off_exponentially_and_after_max_attempts_the_sandbox_is_deletion_failed()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 3, settings: new Dictionary<string, string?>
        {
            ["Jobs:Cleanup:MaxAttempts"] = "3",
            ["Jobs:Cleanup:BackoffBase"] = "00:01:00",
        });
        await h.SyncAsync();
        var sandbox = (await h.PendingDeletionAsync(1))[0];
        h.Csp.Faults.FailFirst = 100;
        var cleanup = h.Get<CleanupService>();
        var start = h.Time.NowEpochSeconds();

        await cleanup.RunOnceAsync(CancellationToken.None);
        var record = await h.GetAsync(sandbox.SandboxId);
        Assert.Equal((SandboxStatus.PendingDeletion, 1, start + 60), (record.Status, record.DeletionRetryCount, record.NextAttemptAt));
        Assert.Contains("500", record.LastError, StringComparison.Ordinal);

        h.Time.Advance(TimeSpan.FromSeconds(30));
        var notDue = await cleanup.RunOnceAsync(CancellationToken.None);
        Assert.Equal(0, notDue.Failed + notDue.Deleted); // not due yet: no call
        Assert.Single(h.Csp.Deletes());

        h.Time.Advance(TimeSpan.FromSeconds(30));
        await cleanup.RunOnceAsync(CancellationToken.None);
        record = await h.GetAsync(sandbox.SandboxId);
        Assert.Equal((SandboxStatus.PendingDeletion, 2, start + 60 + 120), (record.Status, record.DeletionRetryCount, record.NextAttemptAt));

        h.Time.Advance(TimeSpan.FromSeconds(120));
        var last = await cleanup.RunOnceAsync(CancellationToken.None);
        Assert.Equal(1, last.GaveUp);
        record = await h.GetAsync(sandbox.SandboxId);
        Assert.Equal(SandboxStatus.DeletionFailed, record.Status);
        Assert.Equal(3, record.DeletionRetryCount);
        Assert.Null(record.NextAttemptAt);
        Assert.NotNull(record.LastError);
        Assert.Equal(3, h.Csp.Deletes().Count);
    }

    [Fact]
    public async Task A_sandbox_csp_no_longer_knows_404_counts_as_deleted()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 5);
        await h.SyncAsync();
        var sandbox = (await h.PendingDeletionAsync(1))[0];
        h.Csp.Remove(a => a.Id == sandbox.ExternalId); // deleted upstream by hand

        var result = await h.Get<CleanupService>().RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, result.Deleted);
        Assert.Equal(404, Assert.Single(h.Csp.Deletes()).Status);
        Assert.Equal(SandboxStatus.Deleted, (await h.GetAsync(sandbox.SandboxId)).Status);
    }

    [Fact]
    public async Task A_429_keeps_the_sandbox_pending_until_csp_retry_after_has_passed()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 3);
        await h.SyncAsync();
        var sandbox = (await h.PendingDeletionAsync(1))[0];
        h.Csp.Faults.TooManyRequests = true;
        h.Csp.Faults.RetryAfterSeconds = 600;

        await h.Get<CleanupService>().RunOnceAsync(CancellationToken.None);

        var record = await h.GetAsync(sandbox.SandboxId);
        Assert.Equal(SandboxStatus.PendingDeletion, record.Status);
        Assert.Equal(h.Time.NowEpochSeconds() + 600, record.NextAttemptAt); // CSP's 600 s beat the 60 s backoff
        Assert.Contains("429", record.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sandboxes_not_yet_due_are_left_alone()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 4);
        await h.SyncAsync();
        var sandboxes = await h.PendingDeletionAsync(2);
        h.Csp.Faults.FailFirst = 1;
        var cleanup = h.Get<CleanupService>();
        await cleanup.RunOnceAsync(CancellationToken.None); // both fail once, next attempt in 60 s

        var again = await cleanup.RunOnceAsync(CancellationToken.None);

        Assert.Equal((0, 0, 0), (again.Deleted, again.Failed, again.Skipped));
        Assert.Equal(2, h.Csp.Deletes().Count);
        Assert.All(sandboxes, s => Assert.Equal(SandboxStatus.PendingDeletion, h.GetAsync(s.SandboxId).Result.Status));
    }

    [Fact]
    public async Task Batches_and_per_sandbox_pauses_wait_on_the_injected_clock()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 4, settings: new Dictionary<string, string?>
        {
            ["Jobs:Cleanup:BatchSize"] = "2",
            ["Jobs:Cleanup:BatchDelay"] = "00:00:30",
            ["Jobs:Cleanup:PerSandboxDelay"] = "00:00:05",
            // The fake clock below runs 50x faster than the real one: real HTTP calls must not time out on it.
            ["Csp:RequestTimeout"] = "00:10:00",
            ["NiosXaas:Timeout"] = "00:10:00",
        });
        await h.SyncAsync();
        await h.PendingDeletionAsync(4);
        var csp = new CheckingCsp(h.Get<ICspProvider>(), h.Store, h.Time);
        var pass = h.CleanupWith(csp).RunOnceAsync(CancellationToken.None);

        // Move the fake clock a second at a time until the pass is done; the pauses only end when it moves.
        var started = h.Time.GetUtcNow();
        for (var i = 0; i < 120 && !pass.IsCompleted; i++)
        {
            await Task.Delay(20);
            h.Time.Advance(TimeSpan.FromSeconds(1));
        }

        var result = await pass.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(4, result.Deleted);
        var at = csp.Attempts.Select(a => (a.At - started).TotalSeconds).ToArray();
        Assert.Equal(4, at.Length);
        Assert.True(at[1] - at[0] >= 5, $"per-sandbox pause: {string.Join(", ", at)}");
        Assert.True(at[2] - at[1] >= 30, $"batch pause: {string.Join(", ", at)}");
        Assert.True(at[3] - at[2] >= 5, $"per-sandbox pause: {string.Join(", ", at)}");
    }

    [Fact]
    public async Task Shutdown_ends_the_pass_between_sandboxes_without_counting_attempts()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 4, settings: new Dictionary<string, string?>
        {
            ["Jobs:Cleanup:PerSandboxDelay"] = "00:01:00",
        });
        await h.SyncAsync();
        await h.PendingDeletionAsync(4);
        using var stop = new CancellationTokenSource();
        var pass = h.Get<CleanupService>().RunOnceAsync(stop.Token);
        await WaitUntilAsync(() => h.Csp.Deletes().Count == 1);

        await stop.CancelAsync();
        var result = await pass.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(result.Stopped);
        Assert.Equal(1, result.Deleted);
        Assert.Equal(3, result.Skipped);
        var pending = await ListAsync(h, SandboxStatus.PendingDeletion);
        Assert.Equal(3, pending.Count);
        Assert.All(pending, s => Assert.Equal(0, s.DeletionRetryCount));
    }

    [Theory]
    [InlineData(1, 60)]
    [InlineData(2, 120)]
    [InlineData(3, 240)]
    [InlineData(5, 960)]
    [InlineData(40, 86400)]
    public void Backoff_doubles_from_the_base_and_is_capped_at_a_day(int attempt, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), CleanupService.Backoff(TimeSpan.FromMinutes(1), attempt));

    internal static async Task<List<Sandbox>> ListAsync(WorkerHarness h, SandboxStatus status)
    {
        var list = new List<Sandbox>();
        await foreach (var sandbox in h.Store.ScanByStatusAsync(status, CancellationToken.None))
        {
            list.Add(sandbox);
        }

        return list;
    }

    internal static async Task WaitUntilAsync(Func<bool> condition, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(20);
        }
    }
}

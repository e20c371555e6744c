using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SandboxBroker.Api.Workers;
using SandboxBroker.Api.Workers.Runner;
using SandboxBroker.Api.Workers.Sync;
using SandboxBroker.Tests.Workers.Support;

namespace SandboxBroker.Tests.Workers;

/// <summary>The BackgroundService loop: a tick at start-up, one per period on the fake clock, every tick guarded.</summary>
public sealed class JobWorkerTests
{
    private static readonly TimeSpan Period = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task The_worker_runs_at_start_up_then_once_per_period_and_a_failing_pass_does_not_stop_it()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1);
        using var runner = h.RunnerFor("instance-a");
        var job = new TestJob(JobNames.Cleanup, Period);
        using var worker = new JobWorker<TestJob>(job, runner, h.Time, NullLogger<JobWorker<TestJob>>.Instance);

        await worker.StartAsync(CancellationToken.None);
        await CleanupServiceTests.WaitUntilAsync(() => job.Passes == 1);
        await AdvanceAsync(h, Period);
        await CleanupServiceTests.WaitUntilAsync(() => job.Passes == 2);

        job.Throw = new InvalidOperationException("boom");
        await AdvanceAsync(h, Period);
        await CleanupServiceTests.WaitUntilAsync(() => job.Passes == 3);
        job.Throw = null;
        await AdvanceAsync(h, Period);
        await CleanupServiceTests.WaitUntilAsync(() => job.Passes == 4);
        await AdvanceAsync(h, Period / 2); // half a period: no tick
        await Task.Delay(100);
        Assert.Equal(4, job.Passes);

        await worker.StopAsync(CancellationToken.None);
        Assert.Equal("success", (await h.Store.GetJobStateAsync(JobNames.Cleanup, CancellationToken.None))!.LastOutcome);
    }

    [Fact]
    public async Task On_stop_the_running_pass_ends_and_its_lock_is_released()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1);
        using var runner = h.RunnerFor("instance-a");
        var job = new TestJob(JobNames.Cleanup, Period) { Hold = new() };
        using var worker = new JobWorker<TestJob>(job, runner, h.Time, NullLogger<JobWorker<TestJob>>.Instance);
        await worker.StartAsync(CancellationToken.None);
        await job.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await worker.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);

        var state = await h.Store.GetJobStateAsync(JobNames.Cleanup, CancellationToken.None);
        Assert.Equal(("stopped", (string?)null), (state!.LastOutcome, state.LeaseOwner));
    }

    [Fact]
    public async Task Sync_retries_on_its_retry_interval_until_it_succeeds_and_readiness_waits_only_for_the_first_attempt()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 5, settings: new Dictionary<string, string?>
        {
            ["Jobs:Sync:Interval"] = "00:10:00",
            ["Jobs:Sync:RetryInterval"] = "00:00:30",
        });
        h.Csp.Faults.Down = true;
        var readiness = h.Get<ReadinessState>();
        var job = new SyncJob(h.Get<SyncService>(), readiness, h.Get<IOptionsMonitor<JobsOptions>>());
        using var runner = h.RunnerFor("instance-a");
        using var worker = new JobWorker<SyncJob>(job, runner, h.Time, NullLogger<JobWorker<SyncJob>>.Instance);

        await worker.StartAsync(CancellationToken.None);
        await CleanupServiceTests.WaitUntilAsync(() => readiness.FirstSyncAttempted);
        Assert.Single(h.Csp.Lists());                   // the start-up attempt failed, and readiness no longer waits

        await AdvanceAsync(h, TimeSpan.FromSeconds(30));
        await CleanupServiceTests.WaitUntilAsync(() => h.Csp.Lists().Count == 2); // retried after 30 s
        h.Csp.Faults.Down = false;
        await AdvanceAsync(h, TimeSpan.FromSeconds(30));
        await CleanupServiceTests.WaitUntilAsync(() => h.Csp.Lists().Count == 3);
        await CleanupServiceTests.WaitUntilAsync(() => h.CountsAsync().Result.Available == 5);

        await AdvanceAsync(h, TimeSpan.FromSeconds(30)); // synced: back to the 10-minute interval
        await AdvanceAsync(h, TimeSpan.FromSeconds(30));
        await Task.Delay(100);
        Assert.Equal(3, h.Csp.Lists().Count);
        await AdvanceAsync(h, TimeSpan.FromMinutes(10));
        await CleanupServiceTests.WaitUntilAsync(() => h.Csp.Lists().Count == 4);
        await worker.StopAsync(CancellationToken.None);
    }

    /// <summary>Advances the fake clock once the worker had a moment to reach its timer.</summary>
    private static async Task AdvanceAsync(WorkerHarness h, TimeSpan by)
    {
        await Task.Delay(50);
        h.Time.Advance(by);
    }
}

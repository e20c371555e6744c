using Polly.CircuitBreaker;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Storage.Sqlite;
using SandboxBroker.Api.Workers.Runner;
using SandboxBroker.Tests.Workers.Support;

namespace SandboxBroker.Tests.Workers;

/// <summary>
/// Cluster-wide single execution: runners of different instances (owner ids) on one store, time driven by a fake
/// clock. A periodic pass runs when the job is a period old and this instance wins the run lock.
/// </summary>
public sealed class JobRunnerTests
{
    private static readonly TimeSpan Period = TimeSpan.FromMinutes(10);

    /// <summary>A real job name: the runner labels metrics by job, and the metric registry is process-wide.</summary>
    private const string Job = JobNames.Expiry;

    [Fact]
    public async Task Two_instances_on_one_store_file_run_the_job_once_per_period()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1);
        using var otherStore = new SqliteSandboxStore(h.DbPath); // a second "process" on the same file
        await otherStore.InitializeAsync(CancellationToken.None);
        using var a = h.RunnerFor("instance-a");
        using var b = h.RunnerFor("instance-b", otherStore);
        var job = new TestJob(Job, Period);

        for (var period = 0; period < 6; period++)
        {
            var ticks = await Task.WhenAll(a.TryRunPeriodicAsync(job, CancellationToken.None), b.TryRunPeriodicAsync(job, CancellationToken.None));
            Assert.Single(ticks, t => t is JobTick.Ran);
            h.Time.Advance(Period / 2);
            var between = await Task.WhenAll(a.TryRunPeriodicAsync(job, CancellationToken.None), b.TryRunPeriodicAsync(job, CancellationToken.None));
            Assert.All(between, t => Assert.IsType<JobTick.NotDue>(t));
            h.Time.Advance(Period / 2);
        }

        Assert.Equal(6, job.Passes);
    }

    [Fact]
    public async Task While_one_instance_runs_a_pass_the_other_skips_and_the_lock_is_released_with_the_outcome()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1);
        using var a = h.RunnerFor("instance-a");
        using var b = h.RunnerFor("instance-b");
        var job = new TestJob(Job, Period) { Hold = new() };

        var running = a.TryRunPeriodicAsync(job, CancellationToken.None);
        await job.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var state = await h.Store.GetJobStateAsync(Job, CancellationToken.None);
        Assert.Equal("instance-a", state!.LeaseOwner);
        Assert.IsType<JobTick.NotDue>(await b.TryRunPeriodicAsync(job, CancellationToken.None)); // taking the lock set last_run_at
        for (var i = 0; i < 20; i++) // the pass outlasts its period; its lock is renewed meanwhile
        {
            await Task.Delay(10);
            h.Time.Advance(TimeSpan.FromSeconds(30));
            await WaitForAsync(async () => (await h.Store.GetJobStateAsync(Job, CancellationToken.None))!.LeaseExpiresAt > h.Time.NowEpochSeconds());
        }

        Assert.IsType<JobTick.Busy>(await b.TryRunPeriodicAsync(job, CancellationToken.None)); // due, but locked

        job.Hold.SetResult();
        Assert.IsType<JobTick.Ran>(await running);
        state = await h.Store.GetJobStateAsync(Job, CancellationToken.None);
        Assert.Null(JobRunner.LeaseHolder(state, h.Time.NowEpochSeconds()));
        Assert.Equal(("success", h.Time.NowEpochSeconds()), (state!.LastOutcome, state.LastSuccessAt));
        Assert.Equal(1, job.Passes);
    }

    [Fact]
    public async Task The_lock_of_a_crashed_instance_is_taken_over_once_it_expires()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1);
        using var b = h.RunnerFor("instance-b");
        var job = new TestJob(Job, TimeSpan.FromMinutes(1));
        var now = h.Time.NowEpochSeconds();
        Assert.True(await h.Store.TryAcquireJobLeaseAsync(
            new JobLeaseRequest { Job = Job, Owner = "crashed", Now = now, LeaseUntil = now + 120, ExpectedLastRunAt = 0 }, CancellationToken.None));

        h.Time.Advance(TimeSpan.FromSeconds(90)); // due, but the dead instance's lock still holds
        Assert.IsType<JobTick.Busy>(await b.TryRunPeriodicAsync(job, CancellationToken.None));
        h.Time.Advance(TimeSpan.FromSeconds(31));
        Assert.IsType<JobTick.Ran>(await b.TryRunPeriodicAsync(job, CancellationToken.None));
        Assert.Equal(1, job.Passes);
    }

    [Fact]
    public async Task The_lock_is_renewed_while_a_long_pass_runs()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1, settings: new Dictionary<string, string?> { ["Jobs:LeaseDuration"] = "00:00:30" });
        using var a = h.RunnerFor("instance-a");
        using var b = h.RunnerFor("instance-b");
        var job = new TestJob(Job, TimeSpan.FromSeconds(20)) { Hold = new() };
        var running = a.TryRunPeriodicAsync(job, CancellationToken.None);
        await job.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var firstExpiry = (await h.Store.GetJobStateAsync(Job, CancellationToken.None))!.LeaseExpiresAt;

        for (var i = 0; i < 12; i++) // two minutes, four times the lease
        {
            await Task.Delay(20);
            h.Time.Advance(TimeSpan.FromSeconds(10));
            await WaitForAsync(async () => (await h.Store.GetJobStateAsync(Job, CancellationToken.None))!.LeaseExpiresAt > h.Time.NowEpochSeconds());
        }

        var state = await h.Store.GetJobStateAsync(Job, CancellationToken.None);
        Assert.True(state!.LeaseExpiresAt > firstExpiry + 90);
        Assert.Equal("instance-a", state.LeaseOwner);
        Assert.IsType<JobTick.Busy>(await b.TryRunPeriodicAsync(job, CancellationToken.None)); // due, but still locked
        job.Hold.SetResult();
        await running;
        Assert.Equal(1, job.Passes);
    }

    [Fact]
    public async Task A_failing_pass_is_recorded_as_an_error_and_releases_the_lock()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1);
        using var a = h.RunnerFor("instance-a");
        var job = new TestJob(Job, Period) { Throw = new InvalidOperationException("boom") };

        var tick = Assert.IsType<JobTick.Ran>(await a.TryRunPeriodicAsync(job, CancellationToken.None));

        Assert.Equal("error", tick.Verdict.Outcome);
        var state = await h.Store.GetJobStateAsync(Job, CancellationToken.None);
        Assert.Equal(("error", (long?)null, (string?)null), (state!.LastOutcome, state.LastSuccessAt, state.LeaseOwner));
    }

    [Fact]
    public async Task A_pass_stopped_by_an_open_circuit_is_recorded_as_skipped()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1);
        using var a = h.RunnerFor("instance-a");
        var job = new TestJob(Job, Period) { Throw = new BrokenCircuitException("open") };

        var tick = Assert.IsType<JobTick.Ran>(await a.TryRunPeriodicAsync(job, CancellationToken.None));

        Assert.Equal(JobVerdict.Skipped, tick.Verdict);
        Assert.Equal("skipped", (await h.Store.GetJobStateAsync(Job, CancellationToken.None))!.LastOutcome);
    }

    [Fact]
    public async Task An_admin_trigger_ignores_the_period()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1);
        using var a = h.RunnerFor("instance-a");
        var job = new TestJob(Job, Period);
        Assert.IsType<JobTick.Ran>(await a.TryRunPeriodicAsync(job, CancellationToken.None));
        Assert.IsType<JobTick.NotDue>(await a.TryRunPeriodicAsync(job, CancellationToken.None));

        var run = await a.RunOnDemandAsync(Job, job.RunPassAsync, v => v, answerWithinWait: false, CancellationToken.None);

        Assert.Equal(JobVerdict.Success, Assert.IsType<OnDemandRun<JobVerdict>.Completed>(run).Result);
        Assert.Equal(2, job.Passes);
    }

    [Fact]
    public async Task An_admin_trigger_waits_for_a_pass_running_on_another_instance_then_runs()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1);
        using var a = h.RunnerFor("instance-a");
        using var b = h.RunnerFor("instance-b");
        var job = new TestJob(Job, Period) { Hold = new() };
        var periodic = a.TryRunPeriodicAsync(job, CancellationToken.None);
        await job.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var admin = b.RunOnDemandAsync(Job, job.RunPassAsync, v => v, answerWithinWait: false, CancellationToken.None);
        for (var i = 0; i < 8; i++)
        {
            await Task.Delay(10);
            h.Time.Advance(TimeSpan.FromMilliseconds(250)); // two seconds of polling for the lock
        }

        Assert.False(admin.IsCompleted);
        job.Hold.SetResult();
        await periodic;
        var run = await h.AdvanceUntilAsync(admin, TimeSpan.FromMilliseconds(250));

        Assert.IsType<OnDemandRun<JobVerdict>.Completed>(run);
        Assert.Equal(2, job.Passes);
    }

    [Fact]
    public async Task An_admin_trigger_gives_up_waiting_after_the_admin_wait()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1, settings: new Dictionary<string, string?> { ["Jobs:AdminWait"] = "00:00:05" });
        using var a = h.RunnerFor("instance-a");
        using var b = h.RunnerFor("instance-b");
        var job = new TestJob(Job, Period) { Hold = new() };
        var periodic = a.TryRunPeriodicAsync(job, CancellationToken.None);
        await job.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var run = await h.AdvanceUntilAsync(
            b.RunOnDemandAsync(Job, job.RunPassAsync, v => v, answerWithinWait: false, CancellationToken.None), TimeSpan.FromMilliseconds(250));

        Assert.Equal("instance-a", Assert.IsType<OnDemandRun<JobVerdict>.Busy>(run).Holder);
        Assert.Equal(1, job.Passes);
        job.Hold.SetResult();
        await periodic;
    }

    [Fact]
    public async Task A_triggered_pass_still_running_after_the_wait_goes_on_in_the_background_under_the_lock()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1);
        using var a = h.RunnerFor("instance-a");
        var job = new TestJob(Job, Period) { Hold = new() };

        var trigger = a.RunOnDemandAsync(Job, job.RunPassAsync, v => v, answerWithinWait: true, CancellationToken.None);
        await job.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var run = await h.AdvanceUntilAsync(trigger, TimeSpan.FromSeconds(1));

        Assert.Equal("instance-a", Assert.IsType<OnDemandRun<JobVerdict>.Running>(run).Holder);
        Assert.True(a.IsRunningHere(Job));
        Assert.Equal("instance-a", JobRunner.LeaseHolder(await h.Store.GetJobStateAsync(Job, CancellationToken.None), h.Time.NowEpochSeconds()));

        job.Hold.SetResult();
        await WaitForAsync(async () => (await h.Store.GetJobStateAsync(Job, CancellationToken.None))!.LastOutcome == "success");
        Assert.False(a.IsRunningHere(Job));
        Assert.Null(JobRunner.LeaseHolder(await h.Store.GetJobStateAsync(Job, CancellationToken.None), h.Time.NowEpochSeconds()));
    }

    [Fact]
    public async Task On_shutdown_a_background_pass_stops_records_its_outcome_and_releases_the_lock()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1);
        using var a = h.RunnerFor("instance-a");
        var job = new TestJob(Job, Period) { Hold = new() };
        var trigger = a.RunOnDemandAsync(Job, job.RunPassAsync, v => v, answerWithinWait: true, CancellationToken.None);
        await job.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.IsType<OnDemandRun<JobVerdict>.Running>(await h.AdvanceUntilAsync(trigger, TimeSpan.FromSeconds(1)));

        a.BeginShutdown();
        await a.DrainAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);

        var state = await h.Store.GetJobStateAsync(Job, CancellationToken.None);
        Assert.Equal(("stopped", (string?)null), (state!.LastOutcome, state.LeaseOwner));
        Assert.IsType<OnDemandRun<JobVerdict>.Stopping>(
            await a.RunOnDemandAsync(Job, job.RunPassAsync, v => v, answerWithinWait: false, CancellationToken.None));
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(10);
        }
    }
}

using Microsoft.Extensions.Time.Testing;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Workers.Runner;
using SandboxBroker.Tests.Infrastructure;
using SandboxBroker.Tests.Workers.Support;

namespace SandboxBroker.Tests.Workers;

/// <summary>
/// Two broker hosts (each with every worker on) on one SQLite file and one fake CSP, sharing a fake clock: each
/// job runs once at start-up and once per period across both, never on both.
/// </summary>
public sealed class TwoBrokerHostsTests
{
    private static readonly string[] PeriodicJobs = [JobNames.Sync, JobNames.Cleanup, JobNames.Expiry, JobNames.Invariants];

    [Fact]
    public async Task Two_broker_hosts_on_one_store_run_each_job_once_per_period()
    {
        await using var csp = await FakeCspServer.StartAsync(10);
        var time = new FakeTimeProvider(WorkerHarness.Start);
        var directory = Path.Combine(Path.GetTempPath(), "sbx-two-hosts", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var db = Path.Combine(directory, "shared.db");
        await using var a = Host(csp, time, db);
        await using var b = Host(csp, time, db);
        var store = a.Get<ISandboxStore>();

        _ = a.BaseAddress; // start A: its workers run every job at start-up
        await SettledAsync(store, time, AllJobs);
        _ = b.BaseAddress; // B starts later on the same store: nothing is due
        await Task.Delay(500);

        const int periods = 3;
        for (var period = 1; period <= periods; period++)
        {
            time.Advance(TimeSpan.FromMinutes(10)); // both hosts' timers fire
            await SettledAsync(store, time, PeriodicJobs);
            await Task.Delay(300); // let the other host's tick find the job not due
        }

        // Each host has its own metrics registry: passes of a job, summed over both hosts.
        long Passes(string job) => a.Get<BrokerMetrics>().JobDuration.WithLabels(job).Count + b.Get<BrokerMetrics>().JobDuration.WithLabels(job).Count;
        foreach (var job in PeriodicJobs)
        {
            Assert.Equal(periods + 1, Passes(job));
        }

        Assert.Equal(1, Passes(JobNames.StalePurge)); // daily
        Assert.Equal(periods + 1, csp.Lists().Count); // one sync per period, not one per host
        var holders = (await store.ListJobStatesAsync(CancellationToken.None)).Select(s => s.LeaseOwner).Where(o => o is not null);
        Assert.Empty(holders); // every lock released
    }

    private static readonly string[] AllJobs = [.. PeriodicJobs, JobNames.StalePurge];

    private static BrokerFactory Host(FakeCspServer csp, TimeProvider time, string db) => LiveBrokerTests.LiveBroker(csp)
        .With("Storage:Sqlite:Path", db)
        .With("Jobs:Enabled", "true")
        .With("Jobs:Sync:Interval", "00:10:00")
        .With("Jobs:Cleanup:Interval", "00:10:00")
        .With("Jobs:Expiry:Interval", "00:10:00")
        .With("Jobs:Invariants:Interval", "00:10:00")
        .WithTime(time);

    /// <summary>Waits until every job in <paramref name="jobs"/> ran at the current (fake) time, finished and let go of its lock.</summary>
    private static async Task SettledAsync(ISandboxStore store, TimeProvider time, string[] jobs)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var states = (await store.ListJobStatesAsync(CancellationToken.None)).ToDictionary(s => s.Job);
            if (jobs.All(j => states.TryGetValue(j, out var s) && s.LastRunAt == now && s.LastFinishedAt >= now && s.LeaseOwner is null))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "jobs did not settle: " + string.Join("; ", states.Values));
            await Task.Delay(50);
        }
    }
}

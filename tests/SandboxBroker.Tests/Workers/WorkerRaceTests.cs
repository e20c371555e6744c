using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using SandboxBroker.Api.Allocation;
using SandboxBroker.Api.Csp;
using SandboxBroker.Api.Invariants;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Workers.Cleanup;
using SandboxBroker.Api.Workers.Expiry;
using SandboxBroker.Api.Workers.Sync;
using SandboxBroker.Tests.Infrastructure;
using SandboxBroker.Tests.Workers.Support;

namespace SandboxBroker.Tests.Workers;

/// <summary>
/// The original's sync could revert a fresh allocation to available. Here an allocation burst (with releases and
/// re-allocations) meets sync, expiry and cleanup running in a tight loop while the clock races ahead (one-minute
/// labs expire mid-burst): no allocated sandbox may go back to available or stale, and none may have two holders.
/// </summary>
public sealed class WorkerRaceTests
{
    [Fact]
    public async Task An_allocation_burst_while_sync_expiry_and_cleanup_loop_never_reverts_or_double_allocates_a_sandbox()
    {
        await using var csp = await FakeCspServer.StartAsync(200);
        var time = new FakeTimeProvider(WorkerHarness.Start);
        await using var broker = LiveBrokerTests.LiveBroker(csp)
            .With("Broker:LabDuration", "00:01:00")
            .With("Broker:GracePeriod", "00:00:00")
            .With("Csp:RequestTimeout", "00:10:00") // ten fake minutes: a few real seconds on the racing clock
            .WithTime(time);
        var allocation = broker.Get<AllocationService>();
        var store = broker.Get<ISandboxStore>();
        await broker.Get<SyncService>().RunOnceAsync(CancellationToken.None);
        csp.Remove(a => a.Name.CompareTo("lab-csp-0020") < 0 && a.AccountType == "sandbox"); // sync stales those still free

        using var stop = new CancellationTokenSource();
        using var stopClock = new CancellationTokenSource();
        var errors = new ConcurrentQueue<Exception>();
        var passes = new ConcurrentDictionary<string, int>();
        async Task LoopAsync(string name, Func<Task> pass)
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await pass();
                    passes.AddOrUpdate(name, 1, (_, n) => n + 1);
                }
                catch (Exception ex) when (ex is CspException or Polly.CircuitBreaker.BrokenCircuitException)
                {
                    // an upstream failure (the racing clock makes CSP calls time out now and then); the loop goes on
                }
                catch (Exception ex)
                {
                    errors.Enqueue(ex);
                }
            }
        }

        async Task ClockAsync()
        {
            while (!stopClock.IsCancellationRequested)
            {
                await Task.Delay(5);
                time.Advance(TimeSpan.FromSeconds(1));
            }
        }

        var clock = Task.Run(ClockAsync); // pauses (cleanup batches, claim back-off) wait on it: it stops last
        var loops = Task.WhenAll(
            Task.Run(() => LoopAsync("sync", () => broker.Get<SyncService>().RunOnceAsync(CancellationToken.None))),
            Task.Run(() => LoopAsync("expiry", () => broker.Get<ExpiryService>().RunOnceAsync(CancellationToken.None))),
            Task.Run(() => LoopAsync("cleanup", () => broker.Get<CleanupService>().RunOnceAsync(CancellationToken.None))));

        var handedOut = new ConcurrentBag<(string Requester, string SandboxId)>();
        async Task ParticipantAsync(int i)
        {
            var caller = new TrackCaller($"racer-{i}", $"racer-{i}", "race-lab", null);
            for (var round = 0; round < 3; round++)
            {
                var outcome = await allocation.AllocateAsync(caller, time.GetTimestamp(), CancellationToken.None);
                var s = outcome switch
                {
                    AllocationOutcome.Allocated allocated => allocated.Sandbox,
                    AllocationOutcome.Replayed replayed => replayed.Sandbox,
                    _ => null,
                };
                if (s is not null)
                {
                    handedOut.Add((caller.Requester, s.SandboxId));
                    if ((i + round) % 3 == 0)
                    {
                        await allocation.MarkForDeletionAsync(s.SandboxId, caller.Requester, CancellationToken.None);
                    }
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 60).Select(i => Task.Run(() => ParticipantAsync(i))));
        var deadline = DateTime.UtcNow.AddSeconds(20); // let each job finish a few passes over the final state too
        while (new[] { "sync", "expiry", "cleanup" }.Any(job => passes.GetValueOrDefault(job) < 3) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        await stop.CancelAsync();
        await loops.WaitAsync(TimeSpan.FromSeconds(30));
        await stopClock.CancelAsync();
        await clock;

        Assert.Empty(errors);
        Assert.All(new[] { "sync", "expiry", "cleanup" }, job => Assert.True(passes.GetValueOrDefault(job) >= 3, $"{job} ran {passes.GetValueOrDefault(job)} passes"));
        Assert.True(handedOut.Count >= 60);

        // Never two holders: each sandbox was handed to one participant only.
        foreach (var group in handedOut.GroupBy(h => h.SandboxId))
        {
            Assert.Single(group.Select(h => h.Requester).Distinct());
        }

        // Never reverted: every sandbox handed out still names its holder and is in a used state (or a tombstone).
        foreach (var (requester, sandboxId) in handedOut.Distinct())
        {
            var record = await store.GetAsync(sandboxId, CancellationToken.None);
            Assert.NotNull(record);
            Assert.Equal(requester, record.AllocatedTo);
            Assert.Contains(record.Status, new[] { SandboxStatus.Allocated, SandboxStatus.PendingDeletion, SandboxStatus.DeletionFailed, SandboxStatus.Deleted });
        }

        foreach (var status in new[] { SandboxStatus.Available, SandboxStatus.Stale })
        {
            await foreach (var unused in store.ScanByStatusAsync(status, CancellationToken.None))
            {
                Assert.Null(unused.AllocatedTo);
            }
        }

        var counts = await store.CountAsync(null, CancellationToken.None);
        Assert.True(counts.Deleted > 0, "cleanup deleted nothing: the race was not exercised");
        Assert.True(counts.Stale > 0, "sync staled nothing: the race was not exercised");
        Assert.Equal(0, (await broker.Get<InvariantChecker>().RunOnceAsync(CancellationToken.None)).Violations);
    }
}

using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
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
using Xunit.Abstractions;

namespace SandboxBroker.Tests.Workers;

/// <summary>
/// The original's sync could revert a fresh allocation to available. Here an allocation burst (with releases and
/// re-allocations) meets sync, expiry and cleanup running in a tight loop while the clock races ahead (one-minute
/// labs expire mid-burst; some participants wait for theirs to): no allocated sandbox may go back to available or
/// stale, and none may have two holders. The racing clock drives the sandboxes' times (claims, expiry, cleanup); the
/// allocation time budget is counted on the real clock, so the race cannot spend it and every allocation must come
/// back with a sandbox.
/// </summary>
public sealed class WorkerRaceTests(ITestOutputHelper output)
{
    private const int Pool = 240;          // 20 of them vanish upstream; the other 220 exceed the 180 allocations
    private const int Participants = 60;
    private const int Rounds = 3;
    private static readonly string[] Jobs = ["sync", "expiry", "cleanup"];

    [Fact]
    public async Task An_allocation_burst_while_sync_expiry_and_cleanup_loop_never_reverts_or_double_allocates_a_sandbox()
    {
        await using var csp = await FakeCspServer.StartAsync(Pool);
        var time = new FakeTimeProvider(WorkerHarness.Start);
        await using var broker = LiveBrokerTests.LiveBroker(csp)
            .With("Broker:LabDuration", "00:01:00")
            .With("Broker:GracePeriod", "00:00:00")
            .With("Broker:AllocationBudget", "00:00:29") // the largest allowed; on the real clock, see below
            .With("Csp:RequestTimeout", "00:10:00") // ten fake minutes: a few real seconds on the racing clock
            .WithTime(time);
        // The same service as the broker's, but its budget timer and elapsed time run on the real clock, while the
        // times it writes (claimed at, expires at) come from the racing one.
        var wallClock = new RacingWallClock(time);
        var allocation = ActivatorUtilities.CreateInstance<AllocationService>(broker.Get<IServiceProvider>(), (TimeProvider)wallClock);
        var store = broker.Get<ISandboxStore>();
        await broker.Get<SyncService>().RunOnceAsync(CancellationToken.None);
        // The last 20 names vanish upstream: sync stales those still free (SQLite hands out the lowest names first).
        csp.Remove(a => a.Name.CompareTo("lab-csp-0220") >= 0 && a.AccountType == "sandbox");

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
#pragma warning disable CA1031 // every other failure is collected, and fails the test at the end
                catch (Exception ex)
                {
                    errors.Enqueue(ex);
                }
#pragma warning restore CA1031
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

        var answers = new ConcurrentQueue<Answer>();
        var releases = new ConcurrentQueue<(string Requester, string SandboxId, HolderOutcome Outcome)>();
        async Task ParticipantAsync(int i)
        {
            var caller = new TrackCaller($"racer-{i}", $"racer-{i}", "race-lab", null);
            string? held = null;
            var gone = false;
            for (var round = 0; round < Rounds; round++)
            {
                var outcome = await allocation.AllocateAsync(caller, wallClock.GetTimestamp(), CancellationToken.None);
                answers.Enqueue(new Answer(caller.Requester, round, outcome, held, gone));
                gone = false;
                var sandbox = outcome switch
                {
                    AllocationOutcome.Allocated allocated => allocated.Sandbox,
                    AllocationOutcome.Replayed replayed => replayed.Sandbox,
                    _ => null,
                };
                if (sandbox is null)
                {
                    continue;
                }

                held = sandbox.SandboxId;
                if ((i + round) % 3 == 0)
                {
                    var release = await allocation.MarkForDeletionAsync(sandbox.SandboxId, caller, CancellationToken.None);
                    releases.Enqueue((caller.Requester, sandbox.SandboxId, release));
                    gone = true;
                }
                else if (round == 0 && i % 2 == 1)
                {
                    await ExpiredAsync(store, sandbox.SandboxId); // the lab runs out while the others go on
                    gone = true;
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Participants).Select(i => Task.Run(() => ParticipantAsync(i))))
            .WaitAsync(TimeSpan.FromMinutes(2));

        // Let each job finish two more passes over the final state (bounded; generous for a loaded machine).
        var afterBurst = Jobs.ToDictionary(job => job, job => passes.GetValueOrDefault(job));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Jobs.Any(job => passes.GetValueOrDefault(job) < afterBurst[job] + 2) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        await stop.CancelAsync();
        await loops.WaitAsync(TimeSpan.FromSeconds(60));
        await stopClock.CancelAsync();
        await clock;

        output.WriteLine($"{answers.Count(a => a.Outcome is AllocationOutcome.Allocated)} allocated, " +
            $"{answers.Count(a => a.Outcome is AllocationOutcome.Replayed)} replayed, {releases.Count} released; " +
            $"passes: {string.Join(", ", Jobs.Select(job => $"{job} {passes.GetValueOrDefault(job)}"))}; fake time {time.GetUtcNow() - WorkerHarness.Start}");
        Assert.Empty(errors);
        Assert.All(Jobs, job => Assert.True(passes.GetValueOrDefault(job) >= afterBurst[job] + 2,
            $"{job} ran {passes.GetValueOrDefault(job) - afterBurst[job]} passes after the burst"));

        // Every call got an answer with a sandbox: the pool (220 after the upstream removals) exceeds the 180 calls,
        // so "no sandboxes" would mean lost ones, and the budget runs on the real clock, so "unavailable" is a failure.
        Assert.Equal(Participants * Rounds, answers.Count);
        Assert.All(answers, a => Assert.True(a.Outcome is AllocationOutcome.Allocated or AllocationOutcome.Replayed,
            $"{a.Requester} round {a.Round}: {a.Outcome}"));

        // A replay hands back what this requester was last given, and never once that was released or expired; a new
        // sandbox counts as "after release" exactly when the requester had been given one before.
        Assert.All(answers, a =>
        {
            switch (a.Outcome)
            {
                case AllocationOutcome.Replayed replayed:
                    Assert.False(a.GoneBefore, $"{a.Requester} round {a.Round}: replayed a sandbox released or expired before");
                    Assert.Equal(a.HeldBefore, replayed.Sandbox.SandboxId);
                    break;
                case AllocationOutcome.Allocated fresh:
                    Assert.Equal(a.HeldBefore is not null, fresh.AfterRelease);
                    break;
            }
        });

        // Each 201 is a different sandbox: never one sandbox handed out twice, so never two holders.
        var allocated = answers.Where(a => a.Outcome is AllocationOutcome.Allocated)
            .Select(a => (a.Requester, ((AllocationOutcome.Allocated)a.Outcome).Sandbox.SandboxId)).ToList();
        Assert.Equal(allocated.Count, allocated.Select(a => a.SandboxId).Distinct().Count());

        // A holder's release of its own sandbox succeeds, or repeats one that expiry already made, or finds it deleted.
        Assert.All(releases, r => Assert.True(r.Outcome is HolderOutcome.Ok or HolderOutcome.Repeat or HolderOutcome.NotFound,
            $"{r.Requester} releasing {r.SandboxId}: {r.Outcome}"));

        // The store agrees record for record: nothing lost, nothing reverted, no holder the answers do not name.
        var records = new List<Sandbox>();
        foreach (var status in Enum.GetValues<SandboxStatus>())
        {
            await foreach (var record in store.ScanByStatusAsync(status, CancellationToken.None))
            {
                records.Add(record);
            }
        }

        var expectedIds = Enumerable.Range(0, Pool).Select(i => FakeCspAccount.Sandbox(i).CspId.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(expectedIds.Order(StringComparer.Ordinal), records.Select(r => r.SandboxId).Order(StringComparer.Ordinal));
        var held = records.Where(r => r.AllocatedTo is not null).ToList();
        Assert.Equal(allocated.Count, held.Count); // as many sandboxes carry a holder as there were 201s
        Assert.Equal(
            allocated.Select(a => $"{a.SandboxId}:{a.Requester}").Order(StringComparer.Ordinal),
            held.Select(r => $"{r.SandboxId}:{r.AllocatedTo}").Order(StringComparer.Ordinal));
        Assert.All(held, r => Assert.Contains(r.Status, new[] { SandboxStatus.Allocated, SandboxStatus.PendingDeletion, SandboxStatus.DeletionFailed, SandboxStatus.Deleted }));

        var counts = await store.CountAsync(null, CancellationToken.None);
        Assert.True(counts.Deleted > 0, "cleanup deleted nothing: the race was not exercised");
        Assert.True(counts.Stale > 0, "sync staled nothing: the race was not exercised");
        Assert.Equal(0, (await broker.Get<InvariantChecker>().RunOnceAsync(CancellationToken.None)).Violations);
    }

    /// <summary>One allocation call: what the participant held, whether that was released or expired since, the answer.</summary>
    private sealed record Answer(string Requester, int Round, AllocationOutcome Outcome, string? HeldBefore, bool GoneBefore);

    /// <summary>Waits (bounded, on the real clock) until expiry has taken the sandbox out of allocated.</summary>
    private static async Task ExpiredAsync(ISandboxStore store, string sandboxId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await store.GetAsync(sandboxId, CancellationToken.None))?.Status == SandboxStatus.Allocated)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{sandboxId}: expiry never took the one-minute lab on the racing clock");
            await Task.Delay(10);
        }
    }

    /// <summary>The racing clock's date and time, with the real clock's timers and timestamps.</summary>
    private sealed class RacingWallClock(FakeTimeProvider racing) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => racing.GetUtcNow();

        public override TimeZoneInfo LocalTimeZone => racing.LocalTimeZone;
    }
}

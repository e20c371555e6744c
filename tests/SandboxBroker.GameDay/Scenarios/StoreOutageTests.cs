using System.Collections.Concurrent;
using SandboxBroker.GameDay.Infrastructure;

namespace SandboxBroker.GameDay.Scenarios;

/// <summary>
/// DynamoDB Local frozen with SIGSTOP under allocation load (Storage:DynamoDb:Timeout 2 s, MaxRetries 1): requests answer
/// 503 SERVICE_UNAVAILABLE with Retry-After within a bounded time (no hang, no 500), /readyz answers 503, /healthz stays
/// 200; after SIGCONT the same broker process recovers by itself, and every 201 it ever gave is still held.
/// </summary>
[Collection(GameDayCollection.Name)]
public sealed class StoreOutageTests
{
    /// <summary>Timeout 2 s × 2 attempts, plus the allocation budget's slack: an answer later than this is a hang.</summary>
    private const double AnswerBoundMs = 12_000;

    [Fact]
    public Task Pausing_dynamodb_under_load_gives_prompt_503s_and_the_broker_recovers_without_a_restart() =>
        Scoreboard.RunAsync("Store outage: DynamoDB Local paused (SIGSTOP) under load, then resumed", "DynamoDB Local",
            TimeSpan.FromMinutes(GameDayScale.Pick(4, 8)), async (row, ct) =>
            {
                var traffic = new Traffic(row);
                await using var local = await DynamoDbLocal.StartAsync();   // its own: a frozen store must not stall other scenarios
                var pause = GameDayScale.Pick(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30));
                var pool = GameDayScale.Pick(300, 1000);
                await using var broker = await BrokerNode.StartAsync(traffic, BrokerNode.OnDynamoDb(local, GameDayFixture.NewTable("outage"), pool,
                    ("Storage__DynamoDb__Timeout", "00:00:02"), ("Storage__DynamoDb__MaxRetries", "1")));
                await broker.WaitForAvailableAsync(pool, TimeSpan.FromMinutes(2), ct);
                var pid = broker.Pid;

                var allocated = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
                using var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(ct);
                var next = 0;
                async Task AllocatorAsync()
                {
                    // Paced (a lab's setup scripts, not a flood), so the pool outlasts the scenario.
                    while (!stopLoad.IsCancellationRequested && Volatile.Read(ref next) < pool - 40)
                    {
                        var requester = $"gd-outage-{Interlocked.Increment(ref next)}";
                        var answer = await broker.AllocateAsync(requester, ct, TimeSpan.FromSeconds(30));
                        if (answer.Status == 201)
                        {
                            allocated[requester] = answer.Json().Id();
                        }

                        await Task.Delay(250, ct);
                    }
                }

                async Task ProbeAsync(string path)
                {
                    while (!stopLoad.IsCancellationRequested)
                    {
                        await broker.SendAsync(BrokerNode.Request(HttpMethod.Get, path, null), ct, TimeSpan.FromSeconds(30), "GET " + path);
                        await Task.Delay(250, ct);
                    }
                }

                var load = Enumerable.Range(0, 8).Select(_ => Task.Run(AllocatorAsync, ct))
                    .Append(Task.Run(() => ProbeAsync("/readyz"), ct))
                    .Append(Task.Run(() => ProbeAsync("/healthz"), ct))
                    .ToList();

                await Task.Delay(TimeSpan.FromSeconds(2), ct);
                double pausedAt, resumedAt, recoveredAt;
                local.Pause(true);
                pausedAt = traffic.NowMs;   // after the signal landed: a request started from here meets a frozen store
                try
                {
                    await Task.Delay(pause, ct);
                }
                finally
                {
                    local.Pause(false);
                    resumedAt = traffic.NowMs;
                }

                // Recovery: a 201 and a ready /readyz, both asked for after SIGCONT, within a minute, same process.
                var recoveryLimit = resumedAt + 60_000;
                for (var attempt = 0; ; attempt++)
                {
                    var allocation = await broker.AllocateAsync($"gd-outage-recovery-{attempt}", ct, TimeSpan.FromSeconds(30));
                    if (allocation.Status == 201)
                    {
                        allocated[$"gd-outage-recovery-{attempt}"] = allocation.Json().Id();
                    }

                    var ready = await broker.SendAsync(BrokerNode.Request(HttpMethod.Get, "/readyz", null), ct, TimeSpan.FromSeconds(30), "GET /readyz");
                    if (allocation.Status == 201 && ready.Status == 200)
                    {
                        recoveredAt = traffic.NowMs;
                        break;
                    }

                    Assert.True(traffic.NowMs < recoveryLimit, $"the broker did not recover within 60 s of SIGCONT: {allocation}; {ready}");
                    await Task.Delay(200, ct);
                }

                await Task.Delay(TimeSpan.FromSeconds(2), ct);
                await stopLoad.CancelAsync();
                await Task.WhenAll(load);
                traffic.FaultWindow("DynamoDB Local paused", pausedAt, recoveredAt);
                row.Fault($"DynamoDB Local frozen (SIGSTOP) for {pause.TotalSeconds:0} s under load, then SIGCONT");

                Assert.True(broker.IsAlive && broker.Pid == pid, "the broker must recover without a restart");
                var all = traffic.Answers.ToList();
                var hung = all.Where(a => a.Status == 0 || a.ElapsedMs > AnswerBoundMs).ToList();
                Assert.True(hung.Count == 0, $"answers missing or later than {AnswerBoundMs / 1000:0} s: {string.Join("; ", hung.Take(5))}");
                Assert.DoesNotContain(all, a => a.Status == 500);

                // Every allocation that overlapped the freeze: 503 SERVICE_UNAVAILABLE with Retry-After, or (started before
                // it, or still retrying when it ended) a success; at least a few must have met the outage head-on.
                var duringAllocations = all.Where(a => a.What == "POST /v1/allocate" && a.EndedMs >= pausedAt && a.StartedMs <= resumedAt).ToList();
                var refused = duringAllocations.Where(a => a.Status == 503).ToList();
                Assert.True(refused.Count >= 5, $"only {refused.Count} allocations met the outage: " +
                    string.Join("; ", duringAllocations.Select(a => $"{a.Status} {a.StartedMs - pausedAt:0}+{a.ElapsedMs:0}ms")));
                var wrong = duringAllocations.Where(a => a.Status == 503
                    ? a.ProblemCode != "SERVICE_UNAVAILABLE" || a.Header("Retry-After") is null
                    : a.Status is not (200 or 201) || (a.StartedMs >= pausedAt && a.EndedMs <= resumedAt)).ToList();
                Assert.True(wrong.Count == 0, $"during the outage allocations must answer 503 SERVICE_UNAVAILABLE with Retry-After: {string.Join("; ", wrong.Take(5))}");

                var readiness = all.Where(a => a.What == "GET /readyz" && a.StartedMs >= pausedAt + 500 && a.EndedMs <= resumedAt).ToList();
                Assert.True(readiness.Count >= 2 && readiness.All(a => a.Status == 503),
                    $"/readyz during the outage: {string.Join(", ", readiness.Select(a => a.Status))}");
                Assert.All(readiness, a => Assert.True(a.ElapsedMs < 5_000, $"/readyz took {a.ElapsedMs:0} ms"));
                Assert.All(all.Where(a => a.What == "GET /healthz"), a => Assert.Equal(200, a.Status));

                // Nothing answered 201 was lost to the outage.
                var lost = new List<string>();
                foreach (var (requester, id) in allocated)
                {
                    var get = await broker.GetSandboxAsync(requester, id, ct);
                    if (get.Status != 200 || get.Json().Status() != "allocated")
                    {
                        lost.Add($"{requester} {id}: {get}");
                    }
                }

                Assert.True(lost.Count == 0, $"allocations lost: {string.Join("; ", lost.Take(5))}");
                var invariants = await broker.AssertInvariantsHoldAsync(row, ct);
                await broker.AssertHistoriesReplayAsync(row, ct);
                Assert.True(invariants.Count("allocated") >= allocated.Count);
                var errors = traffic.ServerErrorsOutsideFaults();
                row.ServerErrorsOutsideFaults = errors.Count;
                Assert.True(errors.Count == 0, $"5xx outside the outage: {string.Join("; ", errors.Take(5))}");
                var latencies = refused.Select(a => a.ElapsedMs).Order().ToList();
                row.Note($"{refused.Count} allocations met the outage: 503 + Retry-After (p50 {latencies[latencies.Count / 2]:0} ms, max {latencies[^1]:0} ms); " +
                         $"/readyz 503 ×{readiness.Count} (max {readiness.Max(a => a.ElapsedMs):0} ms), /healthz 200 throughout; recovered {(recoveredAt - resumedAt) / 1000:0.0} s after SIGCONT " +
                         $"in the same process; {allocated.Count} allocations answered 201, all still held");
            });
}

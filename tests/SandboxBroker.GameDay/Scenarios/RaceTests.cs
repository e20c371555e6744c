using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using SandboxBroker.GameDay.Infrastructure;

namespace SandboxBroker.GameDay.Scenarios;

/// <summary>
/// Races the original never tested: allocation bursts, replays and releases while sync, cleanup, expiry, stale purge,
/// bulk-delete, retry-deletion, admin release and registration run (periodically and triggered), with sandboxes
/// vanishing from and returning to the CSP list; and two broker processes on one DynamoDB table, with the same
/// requester racing itself across both. Checked on what the clients were told: no sandbox handed to two requesters,
/// every answered allocation still held by its requester unless it was released or expired, invariants hold.
/// </summary>
[Collection(GameDayCollection.Name)]
public sealed class RaceTests(GameDayFixture fixture)
{
    [Fact]
    public Task Allocation_bursts_racing_every_job_and_admin_operation_hand_out_no_sandbox_twice_and_lose_none()
    {
        var path = fixture.NewPath("race");
        return Scoreboard.RunAsync("Races: allocation bursts vs sync, cleanup, expiry, purge, bulk-delete, release, registration", "SQLite + fake CSP",
            TimeSpan.FromMinutes(GameDayScale.Pick(5, 10)), async (row, ct) =>
            {
                var traffic = new Traffic(row);
                var size = GameDayScale.Pick(1000, 3000);
                var duration = GameDayScale.Pick(TimeSpan.FromSeconds(75), TimeSpan.FromSeconds(150));
                var burst = GameDayScale.Pick(20, 50);
                await using var csp = await FakeCspServer.StartAsync(size);
                await using var broker = await BrokerNode.StartAsync(traffic, BrokerNode.OnSqlite(path, 0,
                    ("Csp__Mode", "Live"), ("Csp__BaseUrl", csp.BaseUrl), ("Csp__Token", csp.Token), ("Csp__RequestTimeout", "00:00:05"),
                    ("Broker__LabDuration", "00:01:00"), ("Broker__GracePeriod", "00:00:00"),   // the shortest lab: expiry joins the race
                    ("Jobs__Sync__Interval", "00:00:07"), ("Jobs__Cleanup__Interval", "00:00:05"), ("Jobs__Expiry__Interval", "00:00:05"),
                    ("Jobs__StalePurge__Interval", "00:00:10"), ("Jobs__StalePurge__GracePeriod", "00:00:05"),
                    ("Jobs__Cleanup__BatchDelay", "00:00:00"), ("Jobs__Cleanup__BatchSize", "50"), ("Jobs__Cleanup__BackoffBase", "00:00:01"),
                    ("RateLimiting__Burst", "5000"), ("RateLimiting__PermitsPerSecond", "2000")));
                await broker.WaitForAvailableAsync(size, TimeSpan.FromMinutes(2), ct);

                var ledger = new Ledger();
                var counts = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
                void Count(string what, int n = 1) => counts.AddOrUpdate(what, n, (_, c) => c + n);
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
                stop.CancelAfter(duration);
                var random = new Random(42);
                int Next(int max)
                {
                    lock (random)
                    {
                        return random.Next(max);
                    }
                }

                var serial = 0;
                async Task AllocateAndMaybeReleaseAsync(string requester)
                {
                    var answer = await broker.AllocateAsync(requester, ct);
                    Assert.True(answer.Status is 201 or 409, $"allocation: {answer}");
                    ledger.Allocated(requester, answer);
                    if (answer.Status == 201 && Next(4) == 0)
                    {
                        var id = answer.Json().Id();
                        var mark = await broker.MarkForDeletionAsync(requester, id, ct);
                        Assert.True(mark.Status == 200, $"the holder's own release: {mark}");
                        ledger.Released(id);
                        Count("holder releases");
                    }
                }

                async Task Loop(Func<Task> step, TimeSpan pause)
                {
                    while (!stop.IsCancellationRequested)
                    {
                        await step();
                        try
                        {
                            await Task.Delay(pause, stop.Token);
                        }
                        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                        {
                        }
                    }
                }

                string[] jobs = ["sync", "cleanup", "expire", "auto-delete-stale?grace_period_hours=0", "bulk-delete?status=stale",
                    "bulk-delete?status=deletion_failed", "retry-deletion"];
                var removed = new ConcurrentQueue<FakeCspAccount>();
                var registered = 0;
                var loops = new List<Task>
                {
                    // Bursts of new participants, a quarter of whom stop their lab at once.
                    Loop(async () =>
                    {
                        await Task.WhenAll(Enumerable.Range(0, burst).Select(_ =>
                            AllocateAndMaybeReleaseAsync($"gd-race-{Interlocked.Increment(ref serial)}")));
                        Count("bursts");
                    }, TimeSpan.FromSeconds(2)),
                    // Setup scripts retrying: a replay names the same sandbox, or a new one after a release/expiry.
                    Loop(async () =>
                    {
                        var requesters = ledger.Requesters.ToList();
                        if (requesters.Count > 0)
                        {
                            var requester = requesters[Next(requesters.Count)];
                            var answer = await broker.AllocateAsync(requester, ct);
                            Assert.True(answer.Status is 200 or 201 or 409, $"replay: {answer}");
                            ledger.Allocated(requester, answer);
                            Count("replays");
                        }
                    }, TimeSpan.FromMilliseconds(100)),
                    // Two operators hammering every job trigger and bulk operation.
                    Loop(async () =>
                    {
                        var answer = await broker.TriggerAsync(jobs[Next(jobs.Length)], ct);
                        Assert.True(answer.Status is 200 or 202, $"job trigger: {answer}");
                        Count("job triggers");
                    }, TimeSpan.FromMilliseconds(200)),
                    Loop(async () =>
                    {
                        var answer = await broker.TriggerAsync(jobs[Next(jobs.Length)], ct);
                        Assert.True(answer.Status is 200 or 202, $"job trigger: {answer}");
                        Count("job triggers");
                    }, TimeSpan.FromMilliseconds(300)),
                    // Admin release of a random participant's sandbox.
                    Loop(async () =>
                    {
                        var requesters = ledger.Requesters.ToList();
                        if (requesters.Count > 0 && ledger.Latest(requesters[Next(requesters.Count)]) is { } latest)
                        {
                            var answer = await broker.AdminAsync(HttpMethod.Post, $"/sandboxes/{latest.Id}/release", ct);
                            Assert.True(answer.Status is 200 or 404, $"admin release: {answer}");
                            if (answer.Status == 200)
                            {
                                ledger.Released(latest.Id);
                                Count("admin releases");
                            }
                        }
                    }, TimeSpan.FromMilliseconds(700)),
                    // Upstream churn: sandboxes vanish from the CSP list (sync stales the available ones) and some return.
                    Loop(() =>
                    {
                        var listed = csp.ActiveSandboxes;
                        for (var i = 0; i < 3 && listed.Count > 0; i++)
                        {
                            var account = listed[Next(listed.Count)];
                            csp.Remove(a => a.Id == account.Id);
                            removed.Enqueue(account);
                            Count("vanished upstream");
                        }

                        if (Next(2) == 0 && removed.TryDequeue(out var back) && csp.Deletes(back.Uuid).Count == 0)
                        {
                            csp.Add(back);
                            Count("returned upstream");
                        }

                        return Task.CompletedTask;
                    }, TimeSpan.FromSeconds(1.5)),
                    // New sandboxes registered by an operator (and listed upstream) while everything else runs.
                    Loop(async () =>
                    {
                        var batch = Enumerable.Range(0, 5).Select(_ => 7_000_000 + Interlocked.Increment(ref registered)).ToList();
                        var accounts = batch.Select(n => new FakeCspAccount(
                            $"identity/accounts/00000000-0000-0000-7777-{n.ToString("x12", CultureInfo.InvariantCulture)}", n,
                            $"lab-reg-{n}", "sandbox", "active", null)).ToList();
                        accounts.ForEach(csp.Add);
                        var body = "{\"sandboxes\":[" + string.Join(',', accounts.Select(a =>
                            $"{{\"sandbox_id\":\"{a.CspId}\",\"name\":\"{a.Name}\",\"external_id\":\"{a.Id}\"}}")) + "]}";
                        var answer = await broker.AdminAsync(HttpMethod.Post, "/sandboxes", ct,
                            content: new StringContent(body, Encoding.UTF8, "application/json"));
                        Assert.True(answer.Status == 200, $"registration: {answer}");
                        Count("registered", 5);
                    }, TimeSpan.FromSeconds(3)),
                };
                await Task.WhenAll(loops);

                // Let the last passes settle, expire what is due, then check what every client was told.
                await broker.TriggerAsync("expire", ct);
                var twice = ledger.HandedOutTwice();
                Assert.True(twice.Count == 0, $"sandboxes handed to two requesters: {string.Join("; ", twice.Take(10))}");
                var problems = new ConcurrentBag<string>();
                var states = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
                await Parallel.ForEachAsync(ledger.Requesters, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (requester, token) =>
                {
                    if (ledger.Latest(requester) is not { } latest)
                    {
                        return;
                    }

                    var get = await broker.GetSandboxAsync(requester, latest.Id, token);
                    var releasedOrDue = ledger.WasReleased(latest.Id) || latest.ExpiresAt <= DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                    var state = get.Status == 200 ? get.Json().Status() : get.Status.ToString(CultureInfo.InvariantCulture);
                    states.AddOrUpdate(state, 1, (_, c) => c + 1);
                    if (get.Status == 403 || (get.Status == 200 && get.Json().Holder() != requester))
                    {
                        problems.Add($"{requester}'s sandbox {latest.Id} is held by someone else: {get}");
                    }
                    else if (!releasedOrDue && !(get.Status == 200 && state == "allocated"))
                    {
                        problems.Add($"{requester}'s sandbox {latest.Id} was neither released nor due, yet: {get}");
                    }
                    else if (get.Status is not (200 or 404) || state == "available" || state == "stale")
                    {
                        problems.Add($"{requester}'s sandbox {latest.Id}: {get}");
                    }
                });
                Assert.True(problems.IsEmpty, $"{problems.Count} answered allocations went wrong: {string.Join("\n", problems.Take(10))}");
                await broker.AssertInvariantsHoldAsync(row, ct);
                await broker.AssertHistoriesReplayAsync(row, ct);
                var errors = traffic.ServerErrorsOutsideFaults();
                row.ServerErrorsOutsideFaults = errors.Count;
                Assert.True(errors.Count == 0, $"5xx: {string.Join("; ", errors.Take(5))}");
                Assert.True(counts.GetValueOrDefault("job triggers") > 20 && counts.GetValueOrDefault("admin releases") > 5
                    && counts.GetValueOrDefault("vanished upstream") > 10, $"the races did not happen: {string.Join(", ", counts)}");

                row.Fault($"{duration.TotalSeconds:0} s of concurrent {string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Value} {c.Key}"))}; periodic sync/cleanup/expiry/purge every 5–10 s");
                row.Note($"{ledger.Answers} allocation answers to {ledger.Requesters.Count} requesters, no sandbox handed out twice; " +
                         $"each requester's last sandbox: {string.Join(", ", states.OrderBy(s => s.Key).Select(s => $"{s.Value} {s.Key}"))} " +
                         "(pending/deleted only when released or past expiry)");
            });
    }

    [Fact]
    public async Task Two_broker_processes_on_one_dynamodb_table_never_give_one_requester_two_sandboxes()
    {
        var local = await fixture.DynamoDbAsync();
        var table = GameDayFixture.NewTable("two");
        await Scoreboard.RunAsync("Races: two broker processes on one DynamoDB table, requesters racing across both", "DynamoDB Local",
            TimeSpan.FromMinutes(GameDayScale.Pick(5, 12)), async (row, ct) =>
            {
                var traffic = new Traffic(row);
                var pool = GameDayScale.Pick(300, 1500);
                var requesters = GameDayScale.Pick(200, 1200);
                (string, string?)[] jobs =
                [
                    ("Jobs__Sync__Interval", "00:00:05"), ("Jobs__Cleanup__Interval", "00:00:05"), ("Jobs__Expiry__Interval", "00:00:05"),
                    ("Jobs__Cleanup__BatchDelay", "00:00:00"), ("RateLimiting__Burst", "5000"), ("RateLimiting__PermitsPerSecond", "2000"),
                ];
                await using var a = await BrokerNode.StartAsync(traffic, BrokerNode.OnDynamoDb(local, table, pool, jobs));
                await a.WaitForAvailableAsync(pool, TimeSpan.FromMinutes(2), ct);
                await using var b = await BrokerNode.StartAsync(traffic, BrokerNode.OnDynamoDb(local, table, pool, jobs));
                BrokerNode[] brokers = [a, b];
                var ledger = new Ledger();
                var raced = 0;
                var releasedCount = 0;
                using var stopAdmin = CancellationTokenSource.CreateLinkedTokenSource(ct);
                var admin = Task.Run(async () =>
                {
                    string[] triggers = ["sync", "cleanup", "expire", "bulk-delete?status=stale", "retry-deletion"];
                    for (var i = 0; !stopAdmin.IsCancellationRequested; i++)
                    {
                        var answer = await brokers[i % 2].TriggerAsync(triggers[i % triggers.Length], ct);
                        Assert.True(answer.Status is 200 or 202, $"trigger: {answer}");
                        await Task.Delay(150, ct);
                    }
                }, ct);

                await Parallel.ForEachAsync(Enumerable.Range(0, requesters), new ParallelOptions { MaxDegreeOfParallelism = 24, CancellationToken = ct }, async (i, token) =>
                {
                    var requester = $"gd-two-{i}";
                    var first = brokers[i % 2];
                    var other = brokers[(i + 1) % 2];
                    Answer[] answers = i % 5 < 2
                        ? await Task.WhenAll(first.AllocateAsync(requester, token), other.AllocateAsync(requester, token))   // the same requester on both at once
                        : [await first.AllocateAsync(requester, token)];
                    if (answers.Length == 2)
                    {
                        Interlocked.Increment(ref raced);
                    }

                    foreach (var answer in answers)
                    {
                        Assert.True(answer.Status is 200 or 201, $"allocation: {answer}");
                        ledger.Allocated(requester, answer);
                    }

                    Assert.True(answers.Select(x => x.Json().Id()).Distinct().Count() == 1,
                        $"{requester} got two sandboxes from two brokers: {string.Join("; ", answers.Select(x => x.ToString()))}");
                    Assert.True(answers.Count(x => x.Status == 201) == 1, $"exactly one 201 for {requester}: {string.Join("; ", answers.Select(x => x.Status))}");
                    var id = answers[0].Json().Id();

                    // Replay on the other broker: the same sandbox.
                    var replay = await other.AllocateAsync(requester, token);
                    Assert.True(replay.Status == 200 && replay.Json().Id() == id, $"replay on the other broker: {replay}");
                    ledger.Allocated(requester, replay);
                    if (i % 7 == 0)
                    {
                        Assert.Equal(200, (await other.MarkForDeletionAsync(requester, id, token)).Status);
                        ledger.Released(id);
                        Interlocked.Increment(ref releasedCount);
                    }
                });
                await stopAdmin.CancelAsync();
                await admin;

                var twice = ledger.HandedOutTwice();
                Assert.True(twice.Count == 0, $"sandboxes handed to two requesters: {string.Join("; ", twice.Take(10))}");
                foreach (var requester in ledger.Requesters)
                {
                    Assert.True(ledger.SandboxesOf(requester).Count == 1, $"{requester} was told of {ledger.SandboxesOf(requester).Count} sandboxes");
                    var id = ledger.Latest(requester)!.Value.Id;
                    foreach (var broker in brokers)
                    {
                        var get = await broker.GetSandboxAsync(requester, id, ct);
                        Assert.True(get.Status is 200 or 404 && (get.Status == 404 ? ledger.WasReleased(id)
                            : get.Json().Status() == (ledger.WasReleased(id) ? get.Json().Status() : "allocated")), $"{requester} {id} on broker {broker.Pid}: {get}");
                    }
                }

                var reportA = await a.AssertInvariantsHoldAsync(row, ct);
                var reportB = await b.AssertInvariantsHoldAsync(row, ct);
                await a.AssertHistoriesReplayAsync(row, ct);
                Assert.Equal(requesters - releasedCount, reportA.Count("allocated"));
                Assert.Equal(reportA.Count("allocated"), reportB.Count("allocated"));
                var errors = traffic.ServerErrorsOutsideFaults();
                row.ServerErrorsOutsideFaults = errors.Count;
                Assert.True(errors.Count == 0, $"5xx: {string.Join("; ", errors.Take(5))}");
                row.Fault($"2 broker processes, 1 table; {raced} requesters allocating on both at once; jobs every 5 s on both + triggers alternating");
                row.Note($"{requesters} requesters, each told of exactly one sandbox by both brokers (one 201, the rest 200), {releasedCount} released through " +
                         $"the other broker; both brokers report the same {reportA.Count("allocated")} allocated and no violations");
            });
    }
}

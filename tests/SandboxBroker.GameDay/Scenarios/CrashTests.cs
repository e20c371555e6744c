using System.Collections.Concurrent;
using SandboxBroker.GameDay.Infrastructure;

namespace SandboxBroker.GameDay.Scenarios;

/// <summary>
/// kill -9 in the middle of an allocation burst, restart on the same store: every 201 that reached a client still
/// names a sandbox that client holds (GET 200 allocated, replay 200 with the same id), nobody holds two, the
/// invariants hold. On SQLite (the embedded store) and on DynamoDB Local.
/// </summary>
[Collection(GameDayCollection.Name)]
public sealed class CrashTests(GameDayFixture fixture)
{
    [Fact]
    public Task Kill_9_during_an_allocation_burst_on_sqlite_loses_no_answered_allocation()
    {
        var path = fixture.NewPath("crash");
        return Scoreboard.RunAsync("Crash: kill -9 during an allocation burst, restart on the same store", "SQLite",
            TimeSpan.FromMinutes(GameDayScale.Pick(4, 10)),
            (row, ct) => CrashAsync(row, pool => BrokerNode.OnSqlite(path, pool),
                pool: GameDayScale.Pick(600, 3000), burst: GameDayScale.Pick(500, 2500), killAfter: GameDayScale.Pick(120, 400),
                concurrency: 40, ct));
    }

    [Fact]
    public async Task Kill_9_during_an_allocation_burst_on_dynamodb_loses_no_answered_allocation()
    {
        var local = await fixture.DynamoDbAsync();
        var table = GameDayFixture.NewTable("crash");
        await Scoreboard.RunAsync("Crash: kill -9 during an allocation burst, restart on the same store", "DynamoDB Local",
            TimeSpan.FromMinutes(GameDayScale.Pick(5, 12)),
            (row, ct) => CrashAsync(row, pool => BrokerNode.OnDynamoDb(local, table, pool),
                pool: GameDayScale.Pick(250, 1500), burst: GameDayScale.Pick(200, 1200), killAfter: GameDayScale.Pick(50, 250),
                concurrency: GameDayScale.Pick(16, 40), ct));
    }

    private static async Task CrashAsync(
        ScenarioRow row, Func<int, Dictionary<string, string?>> settings, int pool, int burst, int killAfter, int concurrency, CancellationToken ct)
    {
        var traffic = new Traffic(row);
        var run = Guid.NewGuid().ToString("N")[..6];
        var answered = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);   // requester → sandbox id (201s)
        var unanswered = new ConcurrentBag<(string Requester, double StartedMs)>();         // no answer: cut or refused
        double killedAt;

        await using (var first = await BrokerNode.StartAsync(traffic, settings(pool)))
        {
            await first.WaitForAvailableAsync(pool, TimeSpan.FromMinutes(3), ct);
            var killed = 0;
            var killSent = 0;
            var next = -1;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);

            async Task ClientAsync()
            {
                int i;
                while (Volatile.Read(ref killed) == 0 && (i = Interlocked.Increment(ref next)) < burst)
                {
                    var requester = $"gd-crash-{run}-{i}";
                    var answer = await first.AllocateAsync(requester, ct, TimeSpan.FromSeconds(20));
                    if (answer.Status == 201)
                    {
                        answered[requester] = answer.Json().Id();
                    }
                    else if (answer.Status == 0 && Volatile.Read(ref killSent) == 1)
                    {
                        unanswered.Add((requester, answer.StartedMs));
                    }
                    else
                    {
                        Assert.Fail($"before the kill every allocation must succeed: {answer}");
                    }
                }
            }

            var clients = Enumerable.Range(0, concurrency).Select(_ => Task.Run(ClientAsync, ct)).ToList();
            var waitUntil = DateTimeOffset.UtcNow.AddMinutes(2);
            while (answered.Count < killAfter && DateTimeOffset.UtcNow < waitUntil && clients.Any(c => !c.IsCompleted))
            {
                await Task.Delay(5, ct);
            }

            killedAt = traffic.NowMs;
            Volatile.Write(ref killSent, 1);
            first.SignalKill();              // the clients keep going until the signal is sent: the kill lands mid-request
            Volatile.Write(ref killed, 1);
            first.KillHard();
            traffic.FaultWindow("kill -9", killedAt, double.MaxValue);
            await Task.WhenAll(clients);
            var cut = unanswered.Count(u => u.StartedMs < killedAt);
            row.Fault($"kill -9 after {answered.Count} answered allocations ({cut} requests in flight cut)");
        }

        Assert.True(answered.Count >= killAfter && answered.Count < burst,
            $"the kill must land mid-burst: {answered.Count} of {burst} allocations were answered");

        await using var second = await BrokerNode.StartAsync(traffic, settings(pool));
        // Every answered allocation: the holder still sees it allocated, and a replay returns the same sandbox.
        var lost = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(answered, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (pair, token) =>
        {
            var get = await second.GetSandboxAsync(pair.Key, pair.Value, token);
            if (get.Status != 200 || get.Json().Status() != "allocated" || get.Json().Holder() != pair.Key)
            {
                lost.Add($"GET {pair.Value} as {pair.Key}: {get}");
                return;
            }

            var replay = await second.AllocateAsync(pair.Key, token);
            if (replay.Status != 200 || replay.Json().Id() != pair.Value)
            {
                lost.Add($"replay as {pair.Key} (held {pair.Value}): {replay}");
            }
        });
        Assert.True(lost.IsEmpty, $"{lost.Count} of {answered.Count} answered allocations lost after kill -9: {string.Join("; ", lost.Take(5))}");

        // The requests the kill cut: each requester ends with exactly one sandbox (held from before, or a new one).
        foreach (var (requester, _) in unanswered.OrderBy(u => u.StartedMs).Take(50))
        {
            var retry = await second.AllocateAsync(requester, ct);
            Assert.True(retry.Status is 200 or 201, $"retry of a cut request: {retry}");
        }

        var allocated = await second.ListAllAsync("status=allocated", ct);
        var holders = allocated.Select(s => s.Holder()).ToList();
        var doubled = holders.GroupBy(h => h).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(doubled.Count == 0, $"requesters holding two sandboxes: {string.Join(", ", doubled.Take(10))}");
        Assert.True(allocated.Count >= answered.Count, $"{allocated.Count} allocated after the restart, {answered.Count} were answered");

        var invariants = await second.AssertInvariantsHoldAsync(row, ct);
        await second.AssertHistoriesReplayAsync(row, ct);
        Assert.Equal(allocated.Count, invariants.Count("allocated"));

        var errors = traffic.ServerErrorsOutsideFaults();
        row.ServerErrorsOutsideFaults = errors.Count;
        Assert.True(errors.Count == 0, $"5xx outside the kill: {string.Join("; ", errors.Take(5))}");
        row.Note($"{answered.Count} allocations answered 201 before the kill, all still held after the restart (GET 200 allocated, replay 200 same id); " +
                 $"{unanswered.Count(u => u.StartedMs < killedAt)} cut in flight and {unanswered.Count(u => u.StartedMs >= killedAt)} refused after the kill, retried: one sandbox each; {allocated.Count} allocated, no requester holds two");
    }
}

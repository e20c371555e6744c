using System.Text.Json;
using SandboxBroker.GameDay.Infrastructure;

namespace SandboxBroker.GameDay.Scenarios;

/// <summary>
/// The live CSP client against a fake CSP that fails on purpose: an outage (503), slowness past the request timeout,
/// 429 with Retry-After, malformed JSON, a truncated list and an empty one. Sync and cleanup fail promptly (502, or 503
/// with Retry-After once the breaker is open, without calling CSP), the blast-radius guard stales nothing, allocation
/// and the holders' calls go on untouched, and nothing is lost: after the faults every sandbox is where it belongs and
/// the released ones are deleted upstream.
/// </summary>
[Collection(GameDayCollection.Name)]
public sealed class CspFaultTests(GameDayFixture fixture)
{
    private const double PromptMs = 10_000;

    [Fact]
    public Task Csp_outage_slowness_429_malformed_and_truncated_lists_lose_nothing_and_the_guard_holds()
    {
        var path = fixture.NewPath("csp");
        return Scoreboard.RunAsync("CSP faults: outage, timeout, 429, malformed JSON, truncated and empty lists", "SQLite + fake CSP",
            TimeSpan.FromMinutes(GameDayScale.Pick(5, 12)), async (row, ct) =>
            {
                var traffic = new Traffic(row);
                var size = GameDayScale.Pick(40, 200);
                var rounds = GameDayScale.Pick(1, 3);
                await using var csp = await FakeCspServer.StartAsync(size);
                await using var broker = await BrokerNode.StartAsync(traffic, BrokerNode.OnSqlite(path, 0,
                    ("Csp__Mode", "Live"), ("Csp__BaseUrl", csp.BaseUrl), ("Csp__Token", csp.Token),
                    ("Csp__RequestTimeout", "00:00:02"), ("Csp__ConnectTimeout", "00:00:01"),
                    ("Csp__CircuitBreaker__MinimumThroughput", "5"), ("Csp__CircuitBreaker__SamplingDuration", "00:00:03"),
                    ("Csp__CircuitBreaker__BreakDuration", "00:00:04"),
                    ("Jobs__Sync__Interval", "01:00:00"), ("Jobs__Cleanup__Interval", "01:00:00"), ("Jobs__Expiry__Interval", "01:00:00"),
                    ("Jobs__Cleanup__BatchDelay", "00:00:00"), ("Jobs__Cleanup__BackoffBase", "00:00:01"), ("Jobs__Cleanup__MaxAttempts", "3")));
                await broker.WaitForAvailableAsync(size, TimeSpan.FromMinutes(1), ct);

                // Holders and released sandboxes to protect.
                var held = new Dictionary<string, string>(StringComparer.Ordinal);
                var externalIds = new Dictionary<string, string>(StringComparer.Ordinal);
                for (var i = 0; i < 10; i++)
                {
                    var answer = await broker.AllocateAsync($"gd-csp-{i}", ct);
                    Assert.Equal(201, answer.Status);
                    held[$"gd-csp-{i}"] = answer.Json().Id();
                    externalIds[answer.Json().Id()] = answer.Json().GetProperty("external_id").GetString()!;
                }

                var released = held.Take(4).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
                foreach (var (requester, id) in released)
                {
                    Assert.Equal(200, (await broker.MarkForDeletionAsync(requester, id, ct)).Status);
                }

                var known = (await broker.ListAllAsync("", ct)).Select(s => s.Id()).ToHashSet(StringComparer.Ordinal);
                Assert.Equal(size, known.Count);
                var extra = 0;
                var checks = new List<string>();

                // breaks: the fault fails fast, so five failures inside the 3 s sampling window must open the breaker.
                async Task FaultAsync(string name, Action inject, Action clear, Func<Answer, bool> expected, bool breaks = false)
                {
                    await Task.Delay(TimeSpan.FromSeconds(3.5), ct);   // the last success leaves the sampling window
                    var from = traffic.NowMs;
                    inject();
                    row.Fault(name);
                    // Until the breaker opens each sync meets the fault; once open, sync answers 503 without calling CSP.
                    var answers = new List<Answer>();
                    for (var attempt = 0; attempt < (breaks ? 7 : 3); attempt++)
                    {
                        var lists = csp.Lists().Count;
                        var sync = await broker.TriggerAsync("sync", ct);
                        answers.Add(sync);
                        Assert.True(sync.ElapsedMs < PromptMs, $"{name}: sync took {sync.ElapsedMs:0} ms");
                        if (sync.Status == 503)
                        {
                            Assert.True(sync.Header("Retry-After") is not null, $"{name}: 503 without Retry-After: {sync}");
                            Assert.True(csp.Lists().Count == lists, $"{name}: an open circuit must not call CSP");
                            break;
                        }

                        Assert.True(expected(sync), $"{name}: unexpected sync answer {sync}");
                    }

                    if (breaks)
                    {
                        Assert.True(answers[^1].Status == 503 && answers.Count(a => a.Status == 502) == 5,
                            $"{name}: the breaker must open after 5 failures (MinimumThroughput): {string.Join("/", answers.Select(a => a.Status))}");
                    }

                    // Cleanup under the fault: never a 5xx other than the open circuit's 503, pending sandboxes kept.
                    var cleanup = await broker.TriggerAsync("cleanup", ct);
                    Assert.True(cleanup.Status is 200 or 202 or 503, $"{name}: cleanup {cleanup}");
                    // The track API does not depend on CSP.
                    var student = $"gd-csp-extra-{extra++}";
                    var allocation = await broker.AllocateAsync(student, ct);
                    Assert.Equal(201, allocation.Status);
                    held[student] = allocation.Json().Id();
                    await AssertNothingLostAsync(name);

                    clear();
                    await RecoverAsync(name);
                    traffic.FaultWindow(name, from, traffic.NowMs);
                    checks.Add($"{name}: sync {string.Join("/", answers.Select(a => a.Status))}");
                }

                async Task RecoverAsync(string name)
                {
                    var until = DateTimeOffset.UtcNow.AddSeconds(60);
                    while (true)
                    {
                        var sync = await broker.TriggerAsync("sync", ct);
                        if (sync.Status == 200)
                        {
                            Assert.Equal(0, sync.Json().GetProperty("marked_stale").GetInt32());
                            return;
                        }

                        Assert.True(DateTimeOffset.UtcNow < until, $"after {name} sync did not recover: {sync}");
                        await Task.Delay(500, ct);
                    }
                }

                async Task AssertNothingLostAsync(string when)
                {
                    var stats = await broker.StatsAsync(ct);
                    Assert.True(stats.GetProperty("stale").GetInt64() == 0, $"{when}: sandboxes went stale: {stats}");
                    foreach (var (requester, id) in held)
                    {
                        var get = await broker.GetSandboxAsync(requester, id, ct);
                        if (released.ContainsKey(requester) && get.Status == 404)
                        {
                            // Gone from the pool only because CSP confirmed the delete (the faults here spare DELETE).
                            var uuid = externalIds[id][(externalIds[id].LastIndexOf('/') + 1)..];
                            Assert.True(csp.Deletes(uuid).Any(d => d.Status is 204 or 404), $"{when}: {id} vanished without an upstream delete");
                            continue;
                        }

                        var want = released.ContainsKey(requester) ? new[] { "pending_deletion", "deletion_failed" } : ["allocated"];
                        Assert.True(get.Status == 200 && want.Contains(get.Json().Status()), $"{when}: {requester}'s sandbox {id}: {get}");
                    }
                }

                bool Upstream(Answer a) => a.Status == 502 && a.ProblemCode == "UPSTREAM_ERROR";
                for (var round = 0; round < rounds; round++)
                {
                    await FaultAsync("CSP down (503)", () => csp.Faults.Down = true, () => csp.Faults.Down = false, Upstream, breaks: true);
                    await FaultAsync("CSP slower than the 2 s timeout", () => csp.Faults.Delay = TimeSpan.FromSeconds(3),
                        () => csp.Faults.Delay = TimeSpan.Zero, Upstream);
                    await FaultAsync("CSP 429 with Retry-After", () => { csp.Faults.RetryAfterSeconds = 7; csp.Faults.TooManyRequests = true; },
                        () => csp.Faults.TooManyRequests = false, Upstream, breaks: true);
                    await FaultAsync("CSP malformed JSON", () => csp.Faults.MalformedJson = true, () => csp.Faults.MalformedJson = false, Upstream, breaks: true);

                    // A list missing most of the pool, and an empty one: the guard holds (200, guarded, nothing stale).
                    // (The fake can only hide an account by removing it: one deleted meanwhile stays gone when the list is whole again.)
                    var hidden = csp.ActiveSandboxes.Take(size * 3 / 4).ToList();
                    await FaultAsync("CSP list truncated to a quarter", () => csp.Remove(a => hidden.Contains(a)),
                        () => hidden.Where(a => csp.Deletes(a.Uuid).Count == 0).ToList().ForEach(csp.Add), Guarded);
                    await FaultAsync("CSP list empty", () => csp.Faults.EmptyList = true, () => csp.Faults.EmptyList = false, Guarded);
                }

                // A small, believable disappearance is not guarded: two available sandboxes go stale, and come back.
                var available = (await broker.ListAllAsync("status=available", ct)).Select(s => s.Id()).Take(2).ToHashSet(StringComparer.Ordinal);
                var gone = csp.ActiveSandboxes.Where(a => available.Contains(a.CspId.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
                Assert.Equal(2, gone.Count);
                csp.Remove(a => gone.Contains(a));
                var staled = await broker.TriggerAsync("sync", ct);
                Assert.True(staled.Status == 200 && staled.Json().GetProperty("marked_stale").GetInt32() == 2, $"sync after 2 vanished: {staled}");
                gone.ForEach(csp.Add);
                var revived = await broker.TriggerAsync("sync", ct);
                Assert.True(revived.Status == 200 && revived.Json().GetProperty("revived").GetInt32() == 2, $"sync after they came back: {revived}");

                // After the faults: retry what cleanup gave up on, delete the released sandboxes upstream.
                Assert.Equal(200, (await broker.TriggerAsync("retry-deletion", ct)).Status);
                var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
                while ((await broker.StatsAsync(ct)).GetProperty("pending_deletion").GetInt64() > 0)
                {
                    Assert.True(DateTimeOffset.UtcNow < deadline, "released sandboxes were not deleted after the faults");
                    await broker.TriggerAsync("cleanup", ct);
                    await Task.Delay(1_000, ct);
                }

                foreach (var (requester, id) in held)
                {
                    var get = await broker.GetSandboxAsync(requester, id, ct);
                    Assert.Equal(released.ContainsKey(requester) ? 404 : 200, get.Status);
                }

                Assert.All(released.Values, id => Assert.DoesNotContain(csp.ActiveSandboxes, a => a.CspId.ToString(System.Globalization.CultureInfo.InvariantCulture) == id));
                var stillKnown = (await broker.ListAllAsync("", ct)).Select(s => s.Id()).ToHashSet(StringComparer.Ordinal);
                var missing = known.Except(stillKnown).Except(released.Values).ToList();
                Assert.True(missing.Count == 0, $"sandboxes lost: {string.Join(", ", missing)}");
                var stats = await broker.StatsAsync(ct);
                Assert.Equal(0, stats.GetProperty("stale").GetInt64());
                Assert.Equal(held.Count - released.Count, stats.GetProperty("allocated").GetInt64());

                await broker.AssertInvariantsHoldAsync(row, ct);
                await broker.AssertHistoriesReplayAsync(row, ct);
                var errors = traffic.ServerErrorsOutsideFaults();
                row.ServerErrorsOutsideFaults = errors.Count;
                Assert.True(errors.Count == 0, $"5xx outside the CSP faults: {string.Join("; ", errors.Take(5))}");
                row.Note($"{string.Join("; ", checks.Distinct())} (502 UPSTREAM_ERROR until the breaker opened, then 503 + Retry-After without a CSP call; " +
                         $"truncated/empty lists: 200 guarded, nothing stale); allocation 201 during every fault; 2 vanished sandboxes staled and revived; " +
                         $"{released.Count} released sandboxes deleted upstream afterwards; all {known.Count} known sandboxes accounted for");
            });

        static bool Guarded(Answer a) =>
            a.Status == 200 && a.Json() is var body && body.GetProperty("guarded").GetBoolean() && body.GetProperty("marked_stale").GetInt32() == 0;
    }
}

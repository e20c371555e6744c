using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using SandboxBroker.GameDay.Infrastructure;

namespace SandboxBroker.GameDay.Scenarios;

/// <summary>
/// Reservations racing allocation bursts (SPEC 14): a reservation for one lab created while 200 clients of another lab
/// allocate, then a burst of the reserved lab while its reservation is ended. Checked on what the clients were told and
/// on each sandbox's history: no other lab is ever handed a reserved sandbox (its allocation event starts from
/// available), no sandbox goes to two requesters, none is lost (every sandbox is accounted for as allocated, reserved or
/// available), the reservation's held count equals the reserved count, and invariants hold.
/// </summary>
[Collection(GameDayCollection.Name)]
public sealed class ReservationRaceTests(GameDayFixture fixture)
{
    private const int Pool = 300;
    private const int Held = 60;

    [Fact]
    public Task A_reservation_made_and_ended_during_bursts_never_leaks_a_reserved_sandbox_on_sqlite()
    {
        var path = fixture.NewPath("reserve");
        return Scoreboard.RunAsync("Reservations: one created during a 200-client burst, one ended during its lab's burst", "SQLite",
            TimeSpan.FromMinutes(4), async (row, ct) =>
            {
                var traffic = new Traffic(row);
                await using var broker = await BrokerNode.StartAsync(traffic, BrokerNode.OnSqlite(path, Pool, Limits));
                await broker.WaitForAvailableAsync(Pool, TimeSpan.FromMinutes(2), ct);
                await RaceAsync(row, [broker], ct);
            });
    }

    [Fact]
    public async Task A_reservation_made_and_ended_during_bursts_on_two_brokers_never_leaks_a_reserved_sandbox_on_dynamodb()
    {
        var local = await fixture.DynamoDbAsync();
        var table = GameDayFixture.NewTable("reserve");
        await Scoreboard.RunAsync("Reservations: one created during a 200-client burst, one ended during its lab's burst, two brokers", "DynamoDB Local",
            TimeSpan.FromMinutes(5), async (row, ct) =>
            {
                var traffic = new Traffic(row);
                await using var a = await BrokerNode.StartAsync(traffic, BrokerNode.OnDynamoDb(local, table, Pool, Limits));
                await a.WaitForAvailableAsync(Pool, TimeSpan.FromMinutes(2), ct);
                await using var b = await BrokerNode.StartAsync(traffic, BrokerNode.OnDynamoDb(local, table, Pool, Limits));
                await RaceAsync(row, [a, b], ct);
            });
    }

    private static readonly (string, string?)[] Limits = [("RateLimiting__Burst", "5000"), ("RateLimiting__PermitsPerSecond", "2000")];

    private static async Task RaceAsync(ScenarioRow row, BrokerNode[] brokers, CancellationToken ct)
    {
        var ledger = new Ledger();
        var selfPaced = new ConcurrentBag<string>();

        // 1. 200 self-paced clients at once; the reservation is created while they run.
        string? reservationId = null;
        var burst = Parallel.ForEachAsync(Enumerable.Range(0, 200), new ParallelOptions { MaxDegreeOfParallelism = 50, CancellationToken = ct }, async (i, token) =>
        {
            var requester = $"gd-self-{i}";
            var answer = await AllocateAsync(brokers[i % brokers.Length], requester, "selfpaced", token);
            Assert.True(answer.Status == 201, $"self-paced allocation: {answer}");
            ledger.Allocated(requester, answer);
            selfPaced.Add(answer.Json().Id());
        });
        await Task.Delay(150, ct);
        var created = await brokers[0].AdminAsync(HttpMethod.Post, "/reservations", ct, content: Body(
            $$"""{"track_name":"workshop","count":{{Held}},"ends_at":{{DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 3600}}}""", "application/json"));
        await burst;
        Assert.True(created.Status == 201, $"reservation during the burst: {created}");
        reservationId = created.Json().GetProperty("reservation_id").GetString()!;
        row.Note($"reservation of {Held} created during a burst of 200 ({brokers.Length} broker(s))");

        await AssertNothingLostAsync(brokers, reservationId, Held, ct);
        var leaked = await FromReservedAsync(brokers[0], selfPaced, ct);
        Assert.True(leaked.Count == 0, $"self-paced participants got reserved sandboxes: {string.Join(", ", leaked.Take(10))}");

        // 2. The reserved lab's burst (80 participants: its 60 and 20 from the general pool), ended half-way by DELETE.
        var workshop = new ConcurrentBag<string>();
        var labBurst = Parallel.ForEachAsync(Enumerable.Range(0, 80), new ParallelOptions { MaxDegreeOfParallelism = 40, CancellationToken = ct }, async (i, token) =>
        {
            var requester = $"gd-ws-{i}";
            var answer = await AllocateAsync(brokers[i % brokers.Length], requester, "workshop", token);
            Assert.True(answer.Status == 201, $"workshop allocation: {answer}");
            ledger.Allocated(requester, answer);
            workshop.Add(answer.Json().Id());
        });
        await Task.Delay(100, ct);
        var ended = await brokers[^1].AdminAsync(HttpMethod.Delete, $"/reservations/{reservationId}", ct);
        await labBurst;
        Assert.True(ended.Status == 200, $"ending the reservation during its lab's burst: {ended}");

        var twice = ledger.HandedOutTwice();
        Assert.True(twice.Count == 0, $"sandboxes handed to two requesters: {string.Join("; ", twice.Take(10))}");
        var (_, reserved) = await AssertNothingLostAsync(brokers, reservationId, 0, ct);
        Assert.Equal(0, reserved);
        var fromReservation = (await FromReservedAsync(brokers[0], workshop, ct)).Count;
        var view = (await brokers[0].AdminAsync(HttpMethod.Get, $"/reservations/{reservationId}", ct)).Json();
        Assert.Equal(fromReservation, view.GetProperty("allocated").GetInt32());
        row.Note($"workshop burst of 80 ended its reservation half-way: {fromReservation} from the reservation, {80 - fromReservation} from the pool, " +
                 $"{Held - fromReservation} given back");
        foreach (var broker in brokers)
        {
            await broker.AssertInvariantsHoldAsync(row, ct);
        }
    }

    /// <summary>Every sandbox is allocated, reserved or available, the totals add up, and the reservation holds exactly the reserved ones.</summary>
    private static async Task<(long Available, long Reserved)> AssertNothingLostAsync(BrokerNode[] brokers, string reservationId, int maxHeld, CancellationToken ct)
    {
        var stats = await brokers[0].StatsAsync(ct);
        long Of(string key) => stats.GetProperty(key).GetInt64();
        Assert.True(Of("total") == Pool && Of("available") + Of("allocated") + Of("reserved") == Pool, $"sandboxes lost: {stats}");
        var view = (await brokers[^1].AdminAsync(HttpMethod.Get, $"/reservations/{reservationId}", ct)).Json();
        Assert.Equal(Of("reserved"), view.GetProperty("held").GetInt64());
        Assert.True(Of("reserved") <= maxHeld, $"reserved {Of("reserved")} > {maxHeld}");
        return (Of("available"), Of("reserved"));
    }

    /// <summary>The sandboxes among these whose allocation event started from reserved.</summary>
    private static async Task<List<string>> FromReservedAsync(BrokerNode broker, IEnumerable<string> ids, CancellationToken ct)
    {
        var found = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (id, token) =>
        {
            var history = await broker.AdminAsync(HttpMethod.Get, $"/sandboxes/{Uri.EscapeDataString(id)}/history", token);
            Assert.True(history.Status == 200, $"history of {id}: {history}");
            var allocation = history.Json().GetProperty("events").EnumerateArray().Last(e => e.GetProperty("to").GetString() == "allocated");
            if (allocation.GetProperty("from").GetString() == "reserved")
            {
                found.Add(id);
            }
        });
        return [.. found];
    }

    private static Task<Answer> AllocateAsync(BrokerNode broker, string requester, string lab, CancellationToken ct)
    {
        var request = BrokerNode.Request(HttpMethod.Post, BrokerNode.BasePath + "/allocate", BrokerNode.TrackToken, requester);
        request.Headers.TryAddWithoutValidation("X-Instruqt-Track-ID", lab);
        request.Content = new ByteArrayContent([]);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return broker.SendAsync(request, ct, what: "POST /v1/allocate (lab)");
    }

    private static StringContent Body(string json, string mediaType) => new(json, Encoding.UTF8, mediaType);
}

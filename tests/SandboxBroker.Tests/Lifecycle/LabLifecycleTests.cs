using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using SandboxBroker.Api.Reservations;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Tests.Admin;
using SandboxBroker.Tests.Infrastructure;
using static SandboxBroker.Tests.Admin.AdminTestKit;

namespace SandboxBroker.Tests.Lifecycle;

/// <summary>
/// Lease extension, capacity and reservations (SPEC 13, 14) over HTTP on a real host and a clock the test moves,
/// written once and run on every store.
/// </summary>
public abstract class LabLifecycleTests : PerStoreHostTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    protected FakeTimeProvider Clock { get; } = new(Start);

    private long Now => Clock.GetUtcNow().ToUnixTimeSeconds();

    [Fact]
    public async Task The_holder_extends_up_to_the_cap_and_auto_expiry_honours_the_new_expiry()
    {
        using var admin = Broker.AdminClient();
        await RegisterAsync(admin, "x-1");
        var id = await AllocateAsync(Broker, "alice");
        var allocatedAt = Now;

        var first = await ExtendAsync(id, "alice", """{"seconds": 3600}""");
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(allocatedAt + 2 * 3600, first.Body.GetProperty("expires_at").GetInt64()); // LabDuration 1 h + 1 h

        // Past the old expiry (plus grace 0): expiry leaves it alone; past the new one it expires.
        Clock.Advance(TimeSpan.FromMinutes(90));
        await PostOkAsync(admin, "/v1/admin/expire");
        Assert.Equal(SandboxStatus.Allocated, (await StoredAsync(Broker, id))!.Status);

        var capped = await ExtendAsync(id, "alice", """{"seconds": 604800}""");
        Assert.Equal(allocatedAt + 3 * 3600, capped.Body.GetProperty("expires_at").GetInt64()); // Broker:MaxLeaseDuration 3 h
        var atCap = await ExtendAsync(id, "alice", null);
        Assert.Equal((HttpStatusCode.Conflict, "LEASE_LIMIT_REACHED"), (atCap.Status, atCap.Body.GetProperty("code").GetString()));

        Clock.Advance(TimeSpan.FromMinutes(91));
        await PostOkAsync(admin, "/v1/admin/expire");
        Assert.Equal(SandboxStatus.PendingDeletion, (await StoredAsync(Broker, id))!.Status);
        var late = await ExtendAsync(id, "alice", null);
        Assert.Equal((HttpStatusCode.Conflict, "INVALID_STATE"), (late.Status, late.Body.GetProperty("code").GetString()));

        var events = (await Broker.Get<ISandboxStore>().GetHistoryAsync(id, default))!.Events;
        Assert.Equal(2, events.Count(e => e.Reason?.StartsWith("lease extended", StringComparison.Ordinal) == true));
    }

    [Theory]
    [InlineData("""{"seconds": 59}""")]
    [InlineData("""{"seconds": 604801}""")]
    [InlineData("""{"seconds": "3600"}""")]
    [InlineData("""{"seconds": 3600.5}""")]
    [InlineData("""[3600]""")]
    [InlineData("""{"seconds": """)]
    public async Task A_malformed_extension_is_a_400_and_writes_nothing(string body)
    {
        using var admin = Broker.AdminClient();
        await RegisterAsync(admin, "x-1");
        var id = await AllocateAsync(Broker, "alice");
        var before = await StoredAsync(Broker, id);
        var answer = await ExtendAsync(id, "alice", body);
        Assert.Equal((HttpStatusCode.BadRequest, "VALIDATION_ERROR"), (answer.Status, answer.Body.GetProperty("code").GetString()));
        Assert.Equal(before, await StoredAsync(Broker, id));
        var other = await ExtendAsync(id, "mallory", """{"seconds": 3600}""");
        Assert.Equal((HttpStatusCode.Forbidden, "NOT_SANDBOX_OWNER"), (other.Status, other.Body.GetProperty("code").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await ExtendAsync("nope", "alice", null)).Status);
    }

    [Fact]
    public async Task Capacity_reads_counts_and_the_rate_of_the_last_ten_minutes()
    {
        using var admin = Broker.AdminClient();
        using var track = Broker.TrackClient();
        await RegisterAsync(admin, Enumerable.Range(1, 6).Select(i => Item($"c-{i}", $"cap-{i}")).Append(Item("o-1", "other-1")));
        Clock.Advance(TimeSpan.FromSeconds(3)); // answers are kept up to 2 s (the gauge refresher read the empty pool at start)
        var idle = await GetOkAsync(track, "/v1/capacity?count=7");
        Assert.Equal((7L, true, 0.0), (idle.GetProperty("available").GetInt64(), idle.GetProperty("sufficient").GetBoolean(), idle.GetProperty("allocations_per_minute").GetDouble()));
        Assert.Equal(JsonValueKind.Null, idle.GetProperty("exhaustion_eta_seconds").ValueKind);

        await AllocateAsync(Broker, "a", prefix: "cap-");
        await AllocateAsync(Broker, "b", prefix: "cap-");
        Clock.Advance(TimeSpan.FromSeconds(3)); // past the answers kept for 2 s
        var busy = await GetOkAsync(admin, "/v1/capacity?name_prefix=cap-&count=5");
        Assert.Equal(("cap-", 4L, 5L, false), (busy.GetProperty("name_prefix").GetString(), busy.GetProperty("available").GetInt64(),
            busy.GetProperty("requested").GetInt64(), busy.GetProperty("sufficient").GetBoolean()));
        Assert.Equal(0.2, busy.GetProperty("allocations_per_minute").GetDouble());
        Assert.Equal(1200, busy.GetProperty("exhaustion_eta_seconds").GetInt64()); // 4 left at 0.2 a minute

        Clock.Advance(TimeSpan.FromMinutes(11));
        var later = await GetOkAsync(track, "/v1/capacity?name_prefix=cap-");
        Assert.Equal(0.0, later.GetProperty("allocations_per_minute").GetDouble());
        Assert.Equal(JsonValueKind.Null, later.GetProperty("exhaustion_eta_seconds").ValueKind);

        foreach (var bad in (string[])["count=-1", "count=abc", "count=1e3", "name_prefix=has%20space"])
        {
            using var response = await track.GetAsync("/v1/capacity?" + bad);
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        }
    }

    [Fact]
    public async Task A_reservation_serves_its_lab_first_nobody_else_and_gives_back_what_is_left_when_it_ends()
    {
        using var admin = Broker.AdminClient();
        await RegisterAsync(admin, Enumerable.Range(1, 6).Select(i => $"r-{i}").ToArray());
        var created = await CreateAsync(admin, $$"""{"track_name":"workshop","count":3,"ends_at":{{Now + 3600}}}""");
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var reservationId = created.Body.GetProperty("reservation_id").GetString()!;
        Assert.Equal((3, 3L, 0L, "active"), (created.Body.GetProperty("count").GetInt32(), created.Body.GetProperty("held").GetInt64(),
            created.Body.GetProperty("allocated").GetInt64(), created.Body.GetProperty("status").GetString()));

        // Other labs (and no lab) drain the general pool only.
        var others = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            others.Add(await AllocateAsync(Broker, $"self-{i}", track: i == 0 ? null : "selfpaced"));
        }

        Assert.All(others, id => Assert.Null(StoredAsync(Broker, id).Result!.ReservationId));
        using (var track = Broker.TrackClient())
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/allocate") { Headers = { { "X-Instruqt-Sandbox-ID", "self-9" } } })
        {
            await AssertProblemAsync(await track.SendAsync(request), HttpStatusCode.Conflict, "NO_SANDBOXES_AVAILABLE");
        }

        var workshop = await AllocateAsync(Broker, "ws-1", track: "workshop");
        Assert.Equal(reservationId, (await StoredAsync(Broker, workshop))!.ReservationId);
        var listed = await GetOkAsync(admin, "/v1/admin/reservations");
        var mine = listed.GetProperty("reservations").EnumerateArray().Single(r => r.GetProperty("reservation_id").GetString() == reservationId);
        Assert.Equal((2L, 1L), (mine.GetProperty("held").GetInt64(), mine.GetProperty("allocated").GetInt64()));

        // ends_at passes: the job gives the 2 unused back.
        Clock.Advance(TimeSpan.FromHours(1));
        var (ended, released) = await Broker.Get<ReservationService>().EndDueAsync(null, default);
        Assert.Equal((1, 2), (ended, released));
        var stats = await GetOkAsync(admin, "/v1/admin/stats");
        Assert.Equal((2L, 0L), (stats.GetProperty("available").GetInt64(), stats.GetProperty("reserved").GetInt64()));
        var after = await GetOkAsync(admin, $"/v1/admin/reservations/{reservationId}");
        Assert.Equal(("ended", 0L, 1L), (after.GetProperty("status").GetString(), after.GetProperty("held").GetInt64(), after.GetProperty("allocated").GetInt64()));
    }

    [Fact]
    public async Task A_short_pool_refuses_the_reservation_unless_partial_and_delete_gives_back_at_once()
    {
        using var admin = Broker.AdminClient();
        await RegisterAsync(admin, "s-1", "s-2", "s-3");
        var refused = await CreateAsync(admin, $$"""{"track_name":"ws","count":4,"ends_at":{{Now + 60}}}""");
        Assert.Equal((HttpStatusCode.Conflict, "INSUFFICIENT_CAPACITY", 3L),
            (refused.Status, refused.Body.GetProperty("code").GetString(), refused.Body.GetProperty("available").GetInt64()));
        Assert.Equal(0, (await Broker.Get<ISandboxStore>().CountAsync(null, default)).Reserved);
        Assert.Empty((await GetOkAsync(admin, "/v1/admin/reservations")).GetProperty("reservations").EnumerateArray());

        var partial = await CreateAsync(admin, $$"""{"track_name":"ws","count":4,"ends_at":{{Now + 60}},"partial":true,"name_prefix":"sbx"}""");
        Assert.Equal((HttpStatusCode.Created, 3L), (partial.Status, partial.Body.GetProperty("held").GetInt64()));
        var id = partial.Body.GetProperty("reservation_id").GetString();
        using var deleted = await admin.DeleteAsync($"/v1/admin/reservations/{id}");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        var counts = await Broker.Get<ISandboxStore>().CountAsync(null, default);
        Assert.Equal((3L, 0L), (counts.Available, counts.Reserved));
        using var unknown = await admin.DeleteAsync("/v1/admin/reservations/rsv-none");
        await AssertProblemAsync(unknown, HttpStatusCode.NotFound, "RESERVATION_NOT_FOUND");
    }

    [Theory]
    [InlineData("""{"track_name":"ws","count":0,"ends_at":NOW+60}""")]
    [InlineData("""{"track_name":"ws","count":-2,"ends_at":NOW+60}""")]
    [InlineData("""{"track_name":"ws","count":1,"ends_at":NOW-1}""")]
    [InlineData("""{"track_name":"ws","count":1,"ends_at":NOW+2592001}""")]
    [InlineData("""{"count":1,"ends_at":NOW+60}""")]
    [InlineData("""{"track_name":"has space","count":1,"ends_at":NOW+60}""")]
    [InlineData("""{"track_name":"ws","count":1,"ends_at":NOW+60,"partial":"yes"}""")]
    [InlineData("""{"track_name":"ws","count":"1","ends_at":NOW+60}""")]
    [InlineData("""not json""")]
    public async Task A_malformed_reservation_is_a_400_and_holds_nothing(string template)
    {
        using var admin = Broker.AdminClient();
        await RegisterAsync(admin, "b-1");
        var body = template.Replace("NOW+60", (Now + 60).ToString(), StringComparison.Ordinal)
            .Replace("NOW-1", (Now - 1).ToString(), StringComparison.Ordinal)
            .Replace("NOW+2592001", (Now + 2_592_001).ToString(), StringComparison.Ordinal);
        var answer = await CreateAsync(admin, body);
        Assert.Equal((HttpStatusCode.BadRequest, "VALIDATION_ERROR"), (answer.Status, answer.Body.GetProperty("code").GetString()));
        Assert.Equal(0, (await Broker.Get<ISandboxStore>().CountAsync(null, default)).Reserved);
        Assert.Empty(await Broker.Get<ISandboxStore>().ListReservationsAsync(default));
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> ExtendAsync(string id, string requester, string? body)
    {
        using var client = Broker.TrackClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/sandboxes/{id}/extend");
        request.Headers.Add("X-Instruqt-Sandbox-ID", requester);
        request.Content = Json(body ?? "");
        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> CreateAsync(HttpClient admin, string body)
    {
        using var response = await admin.PostAsync("/v1/admin/reservations", Json(body));
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (response.StatusCode == HttpStatusCode.Created)
        {
            Assert.Equal($"/v1/admin/reservations/{json.GetProperty("reservation_id").GetString()}", response.Headers.Location?.ToString());
        }

        return (response.StatusCode, json);
    }

    /// <summary>A 1 h lab, a 3 h cap, no grace, jobs off (the tests run passes themselves).</summary>
    protected static BrokerFactory LifecycleBroker(TimeProvider clock) => EmptyBroker().WithTime(clock)
        .With("Broker:LabDuration", "01:00:00")
        .With("Broker:MaxLeaseDuration", "03:00:00")
        .With("Broker:GracePeriod", "00:00:00")
        .With("Jobs:Enabled", "false");
}

public sealed class SqliteLabLifecycleTests : LabLifecycleTests
{
    protected override Task<BrokerFactory> CreateBrokerAsync() => Task.FromResult(LifecycleBroker(Clock));
}

[Collection(DynamoDbLocalCollection.Name)]
[Trait("Category", "DynamoDb")]
public sealed class DynamoDbLabLifecycleTests(DynamoDbLocalFixture dynamo) : LabLifecycleTests
{
    protected override Task<BrokerFactory> CreateBrokerAsync() => Task.FromResult(OnDynamoDbLocal(LifecycleBroker(Clock), dynamo));
}

using System.Buffers.Text;
using System.Net;
using System.Text;
using SandboxBroker.Tests.Infrastructure;
using static SandboxBroker.Tests.Admin.AdminTestKit;

namespace SandboxBroker.Tests.Admin;

/// <summary>The list cursor is opaque and validated: tampered, forged or foreign cursors are a 400, never a 500.</summary>
public sealed class AdminCursorTests : IAsyncLifetime
{
    private const string SharedKey = "cursor-key-shared-by-every-replica";
    private readonly BrokerFactory broker = EmptyBroker();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await broker.DisposeAsync();

    private static async Task<string> FirstCursorAsync(HttpClient admin, string query = "limit=2")
    {
        var page = await GetOkAsync(admin, "/v1/admin/sandboxes?" + query);
        return page.GetProperty("cursor").GetString() ?? throw new InvalidOperationException("no cursor");
    }

    private static async Task AssertRejectedAsync(HttpClient admin, string query, string cursor)
    {
        using var response = await admin.GetAsync($"/v1/admin/sandboxes?{query}&cursor={Uri.EscapeDataString(cursor)}");
        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        Assert.Contains("cursor", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Garbled_and_tampered_cursors_are_a_400()
    {
        using var admin = broker.AdminClient();
        await RegisterAsync(admin, "c-1", "c-2", "c-3", "c-4", "c-5");
        var cursor = await FirstCursorAsync(admin);

        var flipped = (cursor[5] == 'A' ? 'B' : 'A').ToString();
        foreach (var bad in new[]
        {
            "AAAA!!garbage",
            cursor[..5] + flipped + cursor[6..],
            cursor[..^3],
            cursor + "x",
            Base64Url.EncodeToString("not json"u8),
            Base64Url.EncodeToString("{\"v\":2,\"f\":\"x\",\"p\":\"c-2\"}"u8),
            Base64Url.EncodeToString("null"u8),
            new string('A', 5000),
        })
        {
            await AssertRejectedAsync(admin, "limit=2", bad);
        }
    }

    [Fact]
    public async Task A_cursor_reused_with_other_filters_is_a_400()
    {
        using var admin = broker.AdminClient();
        await RegisterAsync(admin, Enumerable.Range(0, 6).Select(i => Item($"r-{i}", $"blue-{i}")));
        var cursor = await FirstCursorAsync(admin);

        await AssertRejectedAsync(admin, "limit=2&name_prefix=blue", cursor);
        await AssertRejectedAsync(admin, "limit=2&status=available", cursor);
        await AssertRejectedAsync(admin, "limit=2&requester=someone", cursor);
        await AssertRejectedAsync(admin, "limit=2&track_name=lab", cursor);

        // The limit is not a filter: the next page may be of another size.
        var next = await GetOkAsync(admin, $"/v1/admin/sandboxes?limit=3&cursor={Uri.EscapeDataString(cursor)}");
        Assert.Equal(3, next.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task A_signed_cursor_is_accepted_by_a_replica_with_the_same_key_and_refused_with_another_key()
    {
        broker.With("Broker:CursorKey", SharedKey);
        var dbPath = Path.Combine(broker.DataDirectory, "broker.db");
        using var admin = broker.AdminClient();
        await RegisterAsync(admin, Enumerable.Range(0, 5).Select(i => Item($"k-{i}")));
        var cursor = await FirstCursorAsync(admin);
        Assert.Contains(".", cursor, StringComparison.Ordinal);

        await using var sameKey = EmptyBroker().With("Broker:CursorKey", SharedKey).With("Storage:Sqlite:Path", dbPath);
        using var sameKeyAdmin = sameKey.AdminClient();
        var next = await GetOkAsync(sameKeyAdmin, $"/v1/admin/sandboxes?limit=2&cursor={Uri.EscapeDataString(cursor)}");
        Assert.Equal(["k-2", "k-3"], next.GetProperty("sandboxes").EnumerateArray().Select(s => s.GetProperty("sandbox_id").GetString()));

        await using var otherKey = EmptyBroker().With("Broker:CursorKey", "another-key").With("Storage:Sqlite:Path", dbPath);
        using var otherKeyAdmin = otherKey.AdminClient();
        await AssertRejectedAsync(otherKeyAdmin, "limit=2", cursor);

        // With a key, an unsigned cursor (structurally valid) and a payload edited under the old signature are refused too.
        await AssertRejectedAsync(sameKeyAdmin, "limit=2", cursor[..cursor.IndexOf('.', StringComparison.Ordinal)]);
        var forgedPayload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
            Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor.Split('.')[0])).Replace("k-1", "k-3", StringComparison.Ordinal)));
        await AssertRejectedAsync(sameKeyAdmin, "limit=2", forgedPayload + "." + cursor.Split('.')[1]);
    }

    [Fact]
    public async Task Without_a_key_any_replica_accepts_another_replicas_cursor()
    {
        var dbPath = Path.Combine(broker.DataDirectory, "broker.db");
        using var admin = broker.AdminClient();
        await RegisterAsync(admin, Enumerable.Range(0, 5).Select(i => Item($"u-{i}")));
        var cursor = await FirstCursorAsync(admin);

        await using var replica = EmptyBroker().With("Storage:Sqlite:Path", dbPath);
        using var replicaAdmin = replica.AdminClient();
        var second = await GetOkAsync(replicaAdmin, $"/v1/admin/sandboxes?limit=2&cursor={Uri.EscapeDataString(cursor)}");
        Assert.Equal(["u-2", "u-3"], second.GetProperty("sandboxes").EnumerateArray().Select(s => s.GetProperty("sandbox_id").GetString()));
        var last = await GetOkAsync(admin, $"/v1/admin/sandboxes?limit=2&cursor={Uri.EscapeDataString(second.GetProperty("cursor").GetString()!)}");
        Assert.Equal("u-4", Assert.Single(last.GetProperty("sandboxes").EnumerateArray()).GetProperty("sandbox_id").GetString());
    }
}

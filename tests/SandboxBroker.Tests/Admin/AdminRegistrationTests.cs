using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SandboxBroker.Api.Sandboxes;
using static SandboxBroker.Tests.Admin.AdminTestKit;

namespace SandboxBroker.Tests.Admin;

/// <summary>POST /admin/sandboxes: creates absent ids as available, never touches an existing one, refuses bad bodies with a 4xx problem.</summary>
public sealed class AdminRegistrationTests : IAsyncLifetime
{
    private readonly Infrastructure.BrokerFactory broker = EmptyBroker();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await broker.DisposeAsync();

    [Fact]
    public async Task Registered_sandboxes_are_available_with_their_fields()
    {
        using var admin = broker.AdminClient();
        var body = await RegisterAsync(admin, [Item("2026839", "lab-x", sfdc: "0015g00000ABC"), Item("2026840")]);
        Assert.Equal((2, 0), (body.GetProperty("created").GetInt32(), body.GetProperty("skipped").GetInt32()));

        var one = await GetOkAsync(admin, "/v1/admin/sandboxes/2026839");
        Assert.Equal(JsonValueKind.String, one.GetProperty("sandbox_id").ValueKind);
        Assert.Equal(("available", "lab-x", "identity/accounts/2026839", "0015g00000ABC"), (
            one.GetProperty("status").GetString(), one.GetProperty("name").GetString(),
            one.GetProperty("external_id").GetString(), one.GetProperty("sfdc_account_id").GetString()));
        Assert.True(one.GetProperty("created_at").GetInt64() > 1_700_000_000);
        Assert.Equal(JsonValueKind.Null, (await GetOkAsync(admin, "/v1/admin/sandboxes/2026840")).GetProperty("sfdc_account_id").ValueKind);
    }

    [Fact]
    public async Task Registering_an_id_that_exists_in_any_state_leaves_it_unchanged()
    {
        using var admin = broker.AdminClient();
        await RegisterAsync(admin, Enumerable.Range(0, 6).Select(i => Item($"e-{i}", $"orig-{i}")));
        var allocated = await AllocateAsync(broker, "p1");
        var pending = await AllocateAsync(broker, "p2");
        await PostOkAsync(admin, $"/v1/admin/sandboxes/{pending}/release");
        var failed = await AllocateAsync(broker, "p3");
        await PostOkAsync(admin, $"/v1/admin/sandboxes/{failed}/release");
        await MoveAsync(broker, failed, SandboxStatus.PendingDeletion, SandboxStatus.DeletionFailed, "boom");
        var rest = await ListAllIdsAsync(admin, "status=available");
        await MoveAsync(broker, rest[1], SandboxStatus.Available, SandboxStatus.Stale);
        await MoveAsync(broker, rest[2], SandboxStatus.Available, SandboxStatus.Stale);
        await MoveAsync(broker, rest[2], SandboxStatus.Stale, SandboxStatus.Deleted);

        var ids = new[] { allocated, pending, failed, rest[0], rest[1], rest[2] };
        var before = new Dictionary<string, Sandbox?>();
        foreach (var id in ids)
        {
            before[id] = await StoredAsync(broker, id);
        }

        Assert.Equal(6, before.Values.Select(s => s!.Status).Distinct().Count());
        var body = await RegisterAsync(admin, ids.Select(id => Item(id, "hijacked", sfdc: "other")).Append(Item("e-new")));
        Assert.Equal((1, 6), (body.GetProperty("created").GetInt32(), body.GetProperty("skipped").GetInt32()));
        Assert.Equal(ids.Order(StringComparer.Ordinal), body.GetProperty("skipped_ids").EnumerateArray().Select(e => e.GetString()));
        foreach (var id in ids)
        {
            Assert.Equal(before[id], await StoredAsync(broker, id));
        }
    }

    [Fact]
    public async Task A_thousand_sandboxes_register_in_one_call_and_the_same_id_twice_counts_once()
    {
        using var admin = broker.AdminClient();
        var body = await RegisterAsync(admin, Enumerable.Range(0, 1000).Select(i => Item($"k-{i:D4}")));
        Assert.Equal((1000, 0), (body.GetProperty("created").GetInt32(), body.GetProperty("skipped").GetInt32()));
        var twice = await RegisterAsync(admin, [Item("dup"), Item("dup")]);
        Assert.Equal((1, 1), (twice.GetProperty("created").GetInt32(), twice.GetProperty("skipped").GetInt32()));
        Assert.Equal(1001, (await GetOkAsync(admin, "/v1/admin/stats")).GetProperty("available").GetInt64());
    }

    public static TheoryData<string, string> HostileBodies => new()
    {
        { "", "empty body" },
        { "not json", "not JSON" },
        { "{\"sandboxes\":[", "truncated" },
        { "null", "null body" },
        { "[]", "array body" },
        { "{}", "missing array" },
        { "{\"sandboxes\":null}", "null array" },
        { "{\"sandboxes\":\"x\"}", "string instead of array" },
        { "{\"sandboxes\":[null]}", "null item" },
        { "{\"sandboxes\":[1]}", "number item" },
        { "{\"sandboxes\":[{\"sandbox_id\":null,\"name\":\"n\",\"external_id\":\"e\"}]}", "null id" },
        { "{\"sandboxes\":[{\"sandbox_id\":12,\"name\":\"n\",\"external_id\":\"e\"}]}", "numeric id" },
        { "{\"sandboxes\":[{\"sandbox_id\":\"has space\",\"name\":\"n\",\"external_id\":\"e\"}]}", "id with a space" },
        { "{\"sandboxes\":[{\"sandbox_id\":\"" + new string('x', 129) + "\",\"name\":\"n\",\"external_id\":\"e\"}]}", "id too long" },
        { "{\"sandboxes\":[{\"sandbox_id\":\"ok\",\"name\":\"\",\"external_id\":\"e\"}]}", "empty name" },
        { "{\"sandboxes\":[{\"sandbox_id\":\"ok\",\"name\":\"n\"}]}", "missing external id" },
        { "{\"sandboxes\":[{\"sandbox_id\":\"ok\",\"name\":\"n\",\"external_id\":\"e\",\"sfdc_account_id\":7}]}", "numeric sfdc id" },
        { "{\"sandboxes\":[{\"sandbox_id\":\"ok\",\"name\":\"n\\u0000\",\"external_id\":\"e\"}]}", "control character" },
        { new string('[', 5000) + new string(']', 5000), "deep nesting" },
    };

    [Theory]
    [MemberData(nameof(HostileBodies))]
    public async Task Hostile_bodies_get_a_400_problem_and_register_nothing(string body, string why)
    {
        using var admin = broker.AdminClient();
        using var response = await admin.PostAsync("/v1/admin/sandboxes", Json(body));
        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()), why);
        Assert.Equal(0, (await GetOkAsync(admin, "/v1/admin/stats")).GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task More_than_1000_items_is_a_400_and_one_bad_item_refuses_the_whole_call()
    {
        using var admin = broker.AdminClient();
        using var tooMany = await admin.PostAsJsonAsync("/v1/admin/sandboxes", new { sandboxes = Enumerable.Range(0, 1001).Select(i => Item($"m-{i}")) });
        await AssertProblemAsync(tooMany, HttpStatusCode.BadRequest, "VALIDATION_ERROR");

        using var oneBad = await admin.PostAsJsonAsync("/v1/admin/sandboxes", new { sandboxes = new[] { Item("good-1"), Item("bad id") } });
        var problem = await AssertProblemAsync(oneBad, HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        Assert.Contains("sandboxes[1]", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Null(await StoredAsync(broker, "good-1"));
    }

    [Fact]
    public async Task Wrong_content_type_is_a_415_and_an_oversized_body_a_413()
    {
        using var admin = broker.AdminClient();
        using var text = await admin.PostAsync("/v1/admin/sandboxes", Json("{\"sandboxes\":[]}", "text/plain"));
        await AssertProblemAsync(text, HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");

        var huge = "{\"sandboxes\":[" + string.Join(",", Enumerable.Repeat("{\"sandbox_id\":\"x\",\"name\":\"" + new string('n', 2000) + "\",\"external_id\":\"e\"}", 600)) + "]}";
        using var large = await admin.PostAsync("/v1/admin/sandboxes", Json(huge));
        await AssertProblemAsync(large, HttpStatusCode.RequestEntityTooLarge, "PAYLOAD_TOO_LARGE");
    }
}

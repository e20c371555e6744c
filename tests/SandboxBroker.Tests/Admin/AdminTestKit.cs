using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Admin;

/// <summary>Helpers shared by the admin tests: registration, paging, state setup through the store contract, problem checks.</summary>
internal static class AdminTestKit
{
    /// <summary>A broker with an empty pool (no simulated sandboxes) and no rate limit in the way of bulk test traffic.</summary>
    public static BrokerFactory EmptyBroker() => new BrokerFactory()
        .With("Csp:Simulated:PoolSize", "0")
        .With("RateLimiting:Enabled", "false");

    public static object Item(string id, string? name = null, string? sfdc = null) => new Dictionary<string, string?>
    {
        ["sandbox_id"] = id,
        ["name"] = name ?? "sbx-" + id,
        ["external_id"] = "identity/accounts/" + id,
        ["sfdc_account_id"] = sfdc,
    };

    public static async Task<JsonElement> RegisterAsync(HttpClient admin, IEnumerable<object> items)
    {
        using var response = await admin.PostAsJsonAsync("/v1/admin/sandboxes", new { sandboxes = items.ToArray() });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"registration: {(int)response.StatusCode} {body}");
        return body;
    }

    public static Task<JsonElement> RegisterAsync(HttpClient admin, params string[] ids) =>
        RegisterAsync(admin, ids.Select(id => Item(id)));

    /// <summary>Follows cursors until the last page; returns every sandbox_id in order.</summary>
    public static async Task<List<string>> ListAllIdsAsync(HttpClient admin, string query)
    {
        var ids = new List<string>();
        string? cursor = null;
        for (var page = 0; page < 100; page++)
        {
            var url = "/v1/admin/sandboxes?" + query + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            var body = await GetOkAsync(admin, url);
            var items = body.GetProperty("sandboxes").EnumerateArray().ToList();
            Assert.Equal(items.Count, body.GetProperty("count").GetInt32());
            ids.AddRange(items.Select(s => s.GetProperty("sandbox_id").GetString()!));
            cursor = body.GetProperty("cursor").GetString();
            if (cursor is null)
            {
                return ids;
            }
        }

        throw new InvalidOperationException("paging did not end within 100 pages");
    }

    public static async Task<JsonElement> GetOkAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task<JsonElement> PostOkAsync(HttpClient client, string url)
    {
        using var response = await client.PostAsync(url, null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST {url}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts an RFC 9457 problem with this status and code; returns its body.</summary>
    public static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"want {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal(code, body.GetProperty("code").GetString());
        Assert.Equal((int)status, body.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("request_id").GetString()));
        return body;
    }

    public static StringContent Json(string text, string mediaType = "application/json") =>
        new(text, Encoding.UTF8, mediaType);

    /// <summary>Allocates one sandbox over the track API for this requester (and lab).</summary>
    public static async Task<string> AllocateAsync(BrokerFactory broker, string requester, string? track = null, string? prefix = null)
    {
        using var client = broker.TrackClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/allocate");
        request.Headers.Add("X-Instruqt-Sandbox-ID", requester);
        if (track is not null)
        {
            request.Headers.Add("X-Instruqt-Track-ID", track);
        }

        if (prefix is not null)
        {
            request.Headers.Add("X-Sandbox-Name-Prefix", prefix);
        }

        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"allocate: {(int)response.StatusCode} {body}");
        return body.GetProperty("sandbox_id").GetString()!;
    }

    /// <summary>Moves a sandbox between states with the store's conditional write (setup for states only workers reach).</summary>
    public static async Task<Sandbox> MoveAsync(BrokerFactory broker, string id, SandboxStatus from, SandboxStatus to, string? lastError = null)
    {
        var change = new StateChange
        { Cause = TestCause.Setup,
            SandboxId = id,
            From = from,
            To = to,
            Now = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds(),
            LastError = lastError,
            DeletionRetryCount = lastError is null ? null : 5,
            DeletedAt = to == SandboxStatus.Deleted ? TimeProvider.System.GetUtcNow().ToUnixTimeSeconds() : null,
        };
        var result = await broker.Get<ISandboxStore>().TransitionAsync(change, default);
        return Assert.IsType<TransitionResult.Applied>(result).Sandbox;
    }

    /// <summary>Allocates a sandbox, releases it, and lets its deletion fail for good (5 attempts, last_error set).</summary>
    public static async Task<string> FailedDeletionAsync(BrokerFactory broker, string requester)
    {
        var id = await AllocateAsync(broker, requester);
        using var admin = broker.AdminClient();
        await PostOkAsync(admin, $"/v1/admin/sandboxes/{id}/release");
        await MoveAsync(broker, id, SandboxStatus.PendingDeletion, SandboxStatus.DeletionFailed, "CSP answered 500");
        return id;
    }

    public static Task<Sandbox?> StoredAsync(BrokerFactory broker, string id) => broker.Get<ISandboxStore>().GetAsync(id, default);
}

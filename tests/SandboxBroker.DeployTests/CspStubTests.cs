using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SandboxBroker.DeployTests.Infrastructure;

namespace SandboxBroker.DeployTests;

/// <summary>
/// The compose stack's CSP stand-in (deploy/csp-stub) speaks the API the broker's live client expects: proven with
/// the broker itself in Live mode (sync, allocate, release, cleanup), so `docker compose up` shows a working pool.
/// </summary>
public sealed class CspStubTests(CspStub stub) : IClassFixture<CspStub>
{
    [Fact]
    public async Task Stub_requires_the_csp_token_and_lists_active_sandbox_accounts()
    {
        using var client = new HttpClient();
        var anonymous = await client.GetAsync(new Uri(stub.Root, "v2/current_user/accounts"));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(stub.Root, "v2/current_user/accounts"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Token", CspStub.Token);
        var body = JsonNode.Parse(await (await client.SendAsync(request)).Content.ReadAsStringAsync())!;
        var sandboxes = body["results"]!.AsArray().Where(a => a!["account_type"]!.GetValue<string>() == "sandbox" && a["state"]!.GetValue<string>() == "active").ToList();
        Assert.True(sandboxes.Count >= CspStub.Sandboxes - 1, $"{sandboxes.Count} sandboxes listed");
        Assert.All(sandboxes, a => Assert.StartsWith("identity/accounts/", a!["id"]!.GetValue<string>(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Broker_in_live_mode_syncs_allocates_and_deletes_through_the_stub()
    {
        await using var broker = new BrokerApp(new Dictionary<string, string?>
        {
            ["Csp:Mode"] = "Live",
            ["Csp:BaseUrl"] = stub.BaseUrl.ToString(),
            ["Csp:Token"] = CspStub.Token,
            ["Jobs:Cleanup:BatchDelay"] = "00:00:00",
        });
        using var admin = broker.ClientWith(BrokerApp.AdminToken);
        using var track = broker.ClientWith(BrokerApp.TrackToken);

        var sync = await admin.PostAsync(new Uri("/v1/admin/sync", UriKind.Relative), null);
        Assert.True(sync.IsSuccessStatusCode, $"sync: {sync.StatusCode} {await sync.Content.ReadAsStringAsync()}");
        var stats = await admin.GetFromJsonAsync<JsonObject>(new Uri("/v1/admin/stats", UriKind.Relative));
        Assert.True(stats!["available"]!.GetValue<int>() >= CspStub.Sandboxes - 1, $"stats after sync: {stats}");

        using var allocate = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/allocate", UriKind.Relative));
        allocate.Headers.Add("X-Instruqt-Sandbox-ID", "compose-student-1");
        var allocated = await track.SendAsync(allocate);
        Assert.Equal(HttpStatusCode.Created, allocated.StatusCode);
        var sandboxId = JsonNode.Parse(await allocated.Content.ReadAsStringAsync())!["sandbox_id"]!.GetValue<string>();

        using var release = new HttpRequestMessage(HttpMethod.Post, new Uri($"/v1/sandboxes/{sandboxId}/mark-for-deletion", UriKind.Relative));
        release.Headers.Add("X-Instruqt-Sandbox-ID", "compose-student-1");
        var released = await track.SendAsync(release);
        Assert.True(released.IsSuccessStatusCode, $"mark-for-deletion: {released.StatusCode} {await released.Content.ReadAsStringAsync()}");

        var cleanup = await admin.PostAsync(new Uri("/v1/admin/cleanup", UriKind.Relative), null);
        var result = JsonNode.Parse(await cleanup.Content.ReadAsStringAsync())!;
        Assert.True(cleanup.IsSuccessStatusCode && result["deleted"]?.GetValue<int>() == 1, $"cleanup: {cleanup.StatusCode} {result}");
        var after = await admin.GetFromJsonAsync<JsonObject>(new Uri("/v1/admin/stats", UriKind.Relative));
        Assert.True(after!["pending_deletion"]!.GetValue<int>() == 0, $"stats after cleanup: {after}");
    }

    [Fact]
    public async Task Stub_serves_the_niosxaas_endpoints_the_pre_delete_step_calls()
    {
        using var client = new HttpClient { BaseAddress = stub.Root };
        // The stub is Python's one-request-per-connection HTTP/1.0 server: never hand it a pooled connection.
        client.DefaultRequestHeaders.ConnectionClose = true;
        var refused = await client.PostAsync("v2/session/users/sign_in", Json(new { email = "compose-nx@example.com", password = "wrong" }));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var signIn = await client.PostAsync("v2/session/users/sign_in", Json(new { email = "compose-nx@example.com", password = "compose-nx-password" }));
        var rootJwt = JsonNode.Parse(await signIn.Content.ReadAsStringAsync())!["jwt"]!.GetValue<string>();

        using var accounts = new HttpRequestMessage(HttpMethod.Get, "v2/current_user/accounts");
        accounts.Headers.Authorization = new AuthenticationHeaderValue("Token", CspStub.Token);
        var listed = JsonNode.Parse(await (await client.SendAsync(accounts)).Content.ReadAsStringAsync())!["results"]!.AsArray()
            .Where(a => a!["account_type"]!.GetValue<string>() == "sandbox").Select(a => a!["id"]!.GetValue<string>()).ToList();
        var withServices = 0;
        foreach (var id in listed)
        {
            var switched = await SendToStubAsync(client, () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Post, "v2/session/account_switch") { Content = Json(new { id }) };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", rootJwt);
                return request;
            });

            Assert.Equal(HttpStatusCode.OK, switched.StatusCode);
            var accountJwt = JsonNode.Parse(await switched.Content.ReadAsStringAsync())!["jwt"]!.GetValue<string>();
            using var list = new HttpRequestMessage(HttpMethod.Get, "api/universalinfra/v1/universalservices");
            list.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accountJwt);
            var services = JsonNode.Parse(await (await client.SendAsync(list)).Content.ReadAsStringAsync())!["results"]!.AsArray();
            if (services.Any(x => x!["name"]!.GetValue<string>() == "Instrqt-SaaS"))
            {
                withServices++;
            }
        }

        Assert.True(withServices > 0 && withServices < listed.Count, $"{withServices} of {listed.Count} accounts have an Instrqt-SaaS service");
    }

    /// <summary>
    /// Python's http.server (the compose stand-in, test infrastructure) now and then closes a fresh connection without
    /// answering (seen in about 1 of 4 runs here, no traceback); the request is sent once more then, and the stub's
    /// stderr goes into the failure if that fails too.
    /// </summary>
    private async Task<HttpResponseMessage> SendToStubAsync(HttpClient client, Func<HttpRequestMessage> request)
    {
        try
        {
            using var first = request();
            return await client.SendAsync(first);
        }
        catch (HttpRequestException)
        {
            using var second = request();
            try
            {
                return await client.SendAsync(second);
            }
            catch (HttpRequestException ex)
            {
                throw new InvalidOperationException("the stub dropped the request twice; its stderr: " + stub.Errors, ex);
            }
        }
    }

    /// <summary>A JSON body with a Content-Length (the stub, like the original's clients, reads exactly that many bytes).</summary>
    private static StringContent Json(object body) =>
        new(System.Text.Json.JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");
}

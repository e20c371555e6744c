using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SandboxBroker.Api.Workers.Sync;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Trust;

/// <summary>
/// Broker:AllocationEnabled=false (after a table restore, until it is reconciled): no new allocation, 503
/// MAINTENANCE with Retry-After; the participant who already holds a sandbox still gets it back, reads and releases it.
/// </summary>
public sealed class MaintenanceSwitchTests
{
    private static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> SendAsync(
        HttpClient client, HttpMethod method, string path, string requester)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation("X-Instruqt-Sandbox-ID", requester);
        var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>(), response);
    }

    [Fact]
    public async Task With_allocation_switched_off_only_new_allocations_are_refused()
    {
        // One SQLite file outlives both hosts (each BrokerFactory deletes only its own directory).
        var database = Path.Combine(Directory.CreateTempSubdirectory("sbx-maint").FullName, "broker.db");
        string sandboxId;
        await using (var before = new BrokerFactory().With("Storage:Sqlite:Path", database))
        {
            await before.Get<SyncService>().RunOnceAsync(default);
            using var client = before.TrackClient();
            var (status, body, _) = await SendAsync(client, HttpMethod.Post, "/v1/allocate", "holder");
            Assert.Equal(HttpStatusCode.Created, status);
            sandboxId = body.GetProperty("sandbox_id").GetString()!;
        }

        await using var during = new BrokerFactory()
            .With("Storage:Sqlite:Path", database)
            .With("Broker:AllocationEnabled", "false");
        using var track = during.TrackClient();

        var (code, problem, response) = await SendAsync(track, HttpMethod.Post, "/v1/allocate", "newcomer");
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "MAINTENANCE"), (code, problem.GetProperty("code").GetString()));
        Assert.Equal("30", response.Headers.GetValues("Retry-After").Single());

        var replay = await SendAsync(track, HttpMethod.Post, "/v1/allocate", "holder");
        Assert.Equal((HttpStatusCode.OK, sandboxId), (replay.Status, replay.Body.GetProperty("sandbox_id").GetString()));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(track, HttpMethod.Get, $"/v1/sandboxes/{sandboxId}", "holder")).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(track, HttpMethod.Post, $"/v1/sandboxes/{sandboxId}/mark-for-deletion", "holder")).Status);

        using var admin = during.AdminClient();
        var stats = await admin.GetFromJsonAsync<JsonElement>("/v1/admin/stats");
        Assert.Equal(0, stats.GetProperty("allocated").GetInt64()); // nothing new was handed out
        using var probe = during.AnonymousClient();
        Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode);
    }
}

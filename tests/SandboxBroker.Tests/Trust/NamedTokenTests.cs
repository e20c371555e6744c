using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SandboxBroker.Api.Workers.Sync;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Trust;

/// <summary>
/// SPEC 11.3 through a real host: structured tokens (by secret and by SHA-256) beside the list form, scope by name
/// prefix, holder binding to the allocating token's name, and the per-token quota of new allocations.
/// </summary>
public sealed class NamedTokenTests : IAsyncLifetime
{
    private const string LabOne = "lab-one-secret-0123456789";
    private const string LabTwo = "lab-two-secret-0123456789";
    private const string Scoped = "scoped-secret-0123456789";

    private readonly BrokerFactory broker = new BrokerFactory()
        .With("Csp:Simulated:PoolSize", "30")
        .With("Broker:Tokens:lab-one:Role", "track")
        .With("Broker:Tokens:lab-one:Secret", LabOne)
        .With("Broker:Tokens:lab-one:AllocationsPerMinute", "3")
        .With("Broker:Tokens:lab-two:Role", "Track")
        .With("Broker:Tokens:lab-two:Sha256", Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(LabTwo))).ToLowerInvariant())
        .With("Broker:Tokens:scoped:Role", "track")
        .With("Broker:Tokens:scoped:Secret", Scoped)
        .With("Broker:Tokens:scoped:NamePrefixes:0", "sim-sandbox-002")
        .With("Broker:Tokens:scoped:NamePrefixes:1", "sim-sandbox-003");

    public async Task InitializeAsync() => await broker.Get<SyncService>().RunOnceAsync(default);

    public async Task DisposeAsync() => await broker.DisposeAsync();

    private static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> SendAsync(
        HttpClient client, HttpMethod method, string path, string requester, string? prefix = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation("X-Instruqt-Sandbox-ID", requester);
        if (prefix is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Sandbox-Name-Prefix", prefix);
        }

        var response = await client.SendAsync(request);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (response.StatusCode, body, response);
    }

    [Fact]
    public async Task A_token_known_only_by_its_sha256_authenticates_and_names_itself_in_the_admin_view_and_history()
    {
        using var labTwo = broker.ClientWith(LabTwo);
        var (status, body, _) = await SendAsync(labTwo, HttpMethod.Post, "/v1/allocate", "sha-1");
        Assert.Equal(HttpStatusCode.Created, status);
        var id = body.GetProperty("sandbox_id").GetString();

        using var admin = broker.AdminClient();
        var view = await admin.GetFromJsonAsync<JsonElement>($"/v1/admin/sandboxes/{id}");
        Assert.Equal("lab-two", view.GetProperty("allocated_via").GetString());
        var history = await admin.GetFromJsonAsync<JsonElement>($"/v1/admin/sandboxes/{id}/history");
        Assert.Contains("track:lab-two", history.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(LabTwo, history.ToString() + view, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_scoped_token_allocates_inside_its_first_prefix_by_default_and_is_refused_outside_its_scope()
    {
        using var scoped = broker.ClientWith(Scoped);
        var (status, body, _) = await SendAsync(scoped, HttpMethod.Post, "/v1/allocate", "scope-1");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.StartsWith("sim-sandbox-002", body.GetProperty("name").GetString(), StringComparison.Ordinal);

        (status, body, _) = await SendAsync(scoped, HttpMethod.Post, "/v1/allocate", "scope-2", prefix: "sim-sandbox-003");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.StartsWith("sim-sandbox-003", body.GetProperty("name").GetString(), StringComparison.Ordinal);

        foreach (var outside in new[] { "sim-sandbox-001", "sim-sandbox-00", "sim" })
        {
            (status, body, _) = await SendAsync(scoped, HttpMethod.Post, "/v1/allocate", "scope-3", prefix: outside);
            Assert.Equal(HttpStatusCode.Forbidden, status);
            Assert.Equal("FORBIDDEN", body.GetProperty("code").GetString());
        }

        // Capacity counts only inside the scope: the first prefix by default, 403 outside.
        using (var response = await scoped.GetAsync(new Uri("/v1/capacity", UriKind.Relative)))
        {
            var capacity = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal((HttpStatusCode.OK, "sim-sandbox-002"), (response.StatusCode, capacity.GetProperty("name_prefix").GetString()));
        }

        using (var response = await scoped.GetAsync(new Uri("/v1/capacity?name_prefix=sim-sandbox-001", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        // Nothing was allocated by the refused requests.
        using var admin = broker.AdminClient();
        var held = await admin.GetFromJsonAsync<JsonElement>("/v1/admin/sandboxes?requester=scope-3");
        Assert.Equal(0, held.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Only_the_requester_with_a_token_of_the_allocating_name_reads_or_releases_the_sandbox()
    {
        using var labOne = broker.ClientWith(LabOne);
        using var labTwo = broker.ClientWith(LabTwo);
        using var listed = broker.TrackClient();
        var (status, body, _) = await SendAsync(labOne, HttpMethod.Post, "/v1/allocate", "bound-1");
        Assert.Equal(HttpStatusCode.Created, status);
        var path = "/v1/sandboxes/" + body.GetProperty("sandbox_id").GetString();

        foreach (var other in new[] { labTwo, listed })
        {
            // Every holder action, and a replay of the allocation (which shows the sandbox), needs the token's name.
            (status, body, _) = await SendAsync(other, HttpMethod.Post, "/v1/allocate", "bound-1");
            Assert.Equal((HttpStatusCode.Forbidden, "NOT_SANDBOX_OWNER"), (status, body.GetProperty("code").GetString()));
            (status, body, _) = await SendAsync(other, HttpMethod.Post, path + "/extend", "bound-1");
            Assert.Equal((HttpStatusCode.Forbidden, "NOT_SANDBOX_OWNER"), (status, body.GetProperty("code").GetString()));
            (status, body, _) = await SendAsync(other, HttpMethod.Get, path, "bound-1");
            Assert.Equal((HttpStatusCode.Forbidden, "NOT_SANDBOX_OWNER"), (status, body.GetProperty("code").GetString()));
            (status, body, _) = await SendAsync(other, HttpMethod.Post, path + "/mark-for-deletion", "bound-1");
            Assert.Equal((HttpStatusCode.Forbidden, "NOT_SANDBOX_OWNER"), (status, body.GetProperty("code").GetString()));
        }

        (status, body, _) = await SendAsync(labOne, HttpMethod.Get, path, "bound-1");
        Assert.Equal((HttpStatusCode.OK, "allocated"), (status, body.GetProperty("status").GetString()));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(labOne, HttpMethod.Post, "/v1/allocate", "bound-1")).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(labOne, HttpMethod.Post, path + "/extend", "bound-1")).Status);
        (status, body, _) = await SendAsync(labOne, HttpMethod.Post, path + "/mark-for-deletion", "bound-1");
        Assert.Equal((HttpStatusCode.OK, "pending_deletion"), (status, body.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task The_quota_counts_new_allocations_per_token_name_and_never_replays()
    {
        using var labOne = broker.ClientWith(LabOne);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await SendAsync(labOne, HttpMethod.Post, "/v1/allocate", $"quota-{i}")).Status);
        }

        var (status, body, response) = await SendAsync(labOne, HttpMethod.Post, "/v1/allocate", "quota-3");
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("ALLOCATION_QUOTA_EXCEEDED", body.GetProperty("code").GetString());
        var retryAfter = int.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 60);

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(labOne, HttpMethod.Post, "/v1/allocate", "quota-0")).Status); // a replay is free
        using var listed = broker.TrackClient();
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(listed, HttpMethod.Post, "/v1/allocate", "quota-other")).Status);

        using var anonymous = broker.AnonymousClient();
        var metrics = await anonymous.GetStringAsync("/metrics");
        Assert.Contains("broker_allocation_quota_exceeded_total{token=\"lab-one\"} 1", metrics, StringComparison.Ordinal);
    }
}

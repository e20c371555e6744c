using System.Net;
using SandboxBroker.Tests.Infrastructure;
using static SandboxBroker.Tests.Admin.AdminTestKit;

namespace SandboxBroker.Tests.Admin;

/// <summary>Every admin endpoint takes only the admin token: no token 401, a track token 403, checked before any input.</summary>
public sealed class AdminAuthTests(AdminAuthTests.Host host) : IClassFixture<AdminAuthTests.Host>
{
    public sealed class Host : IAsyncLifetime
    {
        public BrokerFactory Broker { get; } = EmptyBroker();

        public Task InitializeAsync() => Task.CompletedTask;

        public async Task DisposeAsync() => await Broker.DisposeAsync();
    }

    public static TheoryData<string, string> Endpoints => new()
    {
        { "GET", "/v1/admin/sandboxes" },
        { "GET", "/v1/admin/sandboxes?status=bogus" },
        { "GET", "/v1/admin/sandboxes/some-id" },
        { "GET", "/v1/admin/stats" },
        { "POST", "/v1/admin/sandboxes" },
        { "POST", "/v1/admin/bulk-delete?status=stale" },
        { "POST", "/v1/admin/bulk-delete?status=allocated" },
        { "POST", "/v1/admin/sandboxes/some-id/release" },
        { "POST", "/v1/admin/sandboxes/some-id/retry-deletion" },
        { "POST", "/v1/admin/retry-deletion" },
    };

    private static HttpRequestMessage Request(string method, string path) => new(new HttpMethod(method), path)
    {
        Content = method == "POST" ? Json("{\"sandboxes\":[{\"sandbox_id\":\"x1\",\"name\":\"x\",\"external_id\":\"e\"}]}") : null,
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task No_token_is_a_401_with_a_bearer_challenge(string method, string path)
    {
        using var client = host.Broker.AnonymousClient();
        using var response = await client.SendAsync(Request(method, path));
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task A_track_token_is_a_403(string method, string path)
    {
        using var client = host.Broker.TrackClient();
        using var response = await client.SendAsync(Request(method, path));
        await AssertProblemAsync(response, HttpStatusCode.Forbidden, "FORBIDDEN");
    }

    [Fact]
    public async Task An_unknown_token_is_a_401_and_nothing_was_registered()
    {
        using var client = host.Broker.AnonymousClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "not-a-token");
        using var response = await client.SendAsync(Request("POST", "/v1/admin/sandboxes"));
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Null(await StoredAsync(host.Broker, "x1"));
    }
}

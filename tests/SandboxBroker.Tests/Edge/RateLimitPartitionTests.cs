using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Edge;

/// <summary>
/// Who shares a bucket, with tiny limits so each bucket runs dry in a few requests: (token, requester) on track
/// endpoints, the token on admin endpoints, the client address when unauthenticated, and a ceiling per token.
/// </summary>
public sealed class RateLimitPartitionTests : IAsyncLifetime
{
    private const string SecondTrackToken = "second-track-token-0123456789";
    private readonly BrokerFactory broker = new BrokerFactory()
        .With("Broker:TrackTokens:1", SecondTrackToken)
        .With("RateLimiting:PermitsPerSecond", "1")
        .With("RateLimiting:Burst", "3")
        .With("RateLimiting:PerTokenPermitsPerSecond", "8");

    public async Task InitializeAsync()
    {
        using var warmUp = broker.AnonymousClient();   // compile the pipeline before buckets refilling at 1/s are timed
        (await warmUp.GetAsync(new Uri("/healthz", UriKind.Relative))).Dispose();
    }

    public async Task DisposeAsync() => await broker.DisposeAsync();

    [Fact]
    public async Task Each_requester_of_a_token_has_its_own_bucket_and_each_token_its_own_requesters()
    {
        using var client = broker.TrackClient();
        var first = await CodesAsync(client, "/v1/sandboxes/x1", "alice", 5);
        Assert.Equal([HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], first);

        Assert.Equal(HttpStatusCode.NotFound, (await CodesAsync(client, "/v1/sandboxes/x1", "bob", 1))[0]);

        using var other = broker.AnonymousClient();
        other.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SecondTrackToken);
        Assert.Equal(HttpStatusCode.NotFound, (await CodesAsync(other, "/v1/sandboxes/x1", "alice", 1))[0]);
    }

    [Fact]
    public async Task Rotating_the_requester_header_cannot_lift_the_token_ceiling()
    {
        using var client = broker.TrackClient();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var codes = (await Task.WhenAll(Enumerable.Range(0, 40).Select(i => CodesAsync(client, "/v1/sandboxes/x1", $"rotating-{i}", 1))))
            .SelectMany(c => c).ToList();
        var elapsed = watch.Elapsed;

        // Every requester is fresh (a burst of 3 each), but the token's bucket holds 8, refilled at 8/s.
        Assert.Contains(HttpStatusCode.TooManyRequests, codes);
        Assert.InRange(codes.Count(c => c == HttpStatusCode.NotFound), 8, 8 + (int)Math.Ceiling(8 * elapsed.TotalSeconds));

        // The second token's ceiling is its own.
        using var other = broker.AnonymousClient();
        other.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SecondTrackToken);
        Assert.Equal(HttpStatusCode.NotFound, (await CodesAsync(other, "/v1/sandboxes/x1", "rotating-0", 1))[0]);
    }

    [Fact]
    public async Task Admin_endpoints_are_limited_per_token_whatever_the_requester_header()
    {
        using var admin = broker.AdminClient();
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            codes.AddRange(await CodesAsync(admin, "/v1/admin/stats", $"any-{i}", 1));
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], codes);

        // The admin bucket is not the track bucket of the same process.
        using var track = broker.TrackClient();
        Assert.Equal(HttpStatusCode.NotFound, (await CodesAsync(track, "/v1/sandboxes/x1", "any-0", 1))[0]);
    }

    [Fact]
    public async Task Authentication_and_role_come_before_the_rate_limit()
    {
        using var anonymous = broker.AnonymousClient();
        Assert.All(await CodesAsync(anonymous, "/v1/sandboxes/x1", "carol", 8), c => Assert.Equal(HttpStatusCode.Unauthorized, c));

        using var admin = broker.AdminClient();
        Assert.All(await CodesAsync(admin, "/v1/sandboxes/x1", "carol", 8), c => Assert.Equal(HttpStatusCode.Forbidden, c));

        // Neither used the caller's bucket: a valid track call of the same requester still has its burst.
        using var track = broker.TrackClient();
        Assert.Equal([HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NotFound], await CodesAsync(track, "/v1/sandboxes/x1", "carol", 3));
    }

    [Fact]
    public async Task Unauthenticated_callers_share_a_bucket_per_address()
    {
        using var first = broker.AnonymousClient();
        using var second = broker.AnonymousClient();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var codes = (await CodesAsync(first, "/v1/no-such-thing", null, 2)).Concat(await CodesAsync(second, "/v1/nothing-here", null, 4)).ToList();
        var elapsed = watch.Elapsed;

        // One bucket of 3 for both clients (same address), refilled at 1/s: a busy machine may refill one per second taken.
        Assert.All(codes.Take(3), c => Assert.Equal(HttpStatusCode.NotFound, c));
        Assert.InRange(codes.Count(c => c == HttpStatusCode.NotFound), 3, 3 + (int)Math.Ceiling(elapsed.TotalSeconds));
        Assert.All(codes, c => Assert.Contains(c, new[] { HttpStatusCode.NotFound, HttpStatusCode.TooManyRequests }));

        // Keep calling (bounded) until the shared bucket refuses: the refusal is a problem body with Retry-After.
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 50 && refused is null; i++)
        {
            var response = await first.GetAsync(new Uri("/v1/no-such-thing", UriKind.Relative));
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused = response;
            }
            else
            {
                response.Dispose();
            }
        }

        Assert.NotNull(refused);
        using (refused)
        {
            var body = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("RATE_LIMIT_EXCEEDED", body.GetProperty("code").GetString());
            Assert.NotNull(refused.Header("Retry-After"));
        }
    }

    private static async Task<List<HttpStatusCode>> CodesAsync(HttpClient client, string path, string? requester, int count)
    {
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++)
        {
            using var response = await client.SendAsync(HttpMethod.Get, path, requester);
            codes.Add(response.StatusCode);
        }

        return codes;
    }
}

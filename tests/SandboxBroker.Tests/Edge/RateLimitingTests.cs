using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SandboxBroker.Api.Workers.Sync;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Edge;

/// <summary>The framework's token buckets at the edge, at their default settings.</summary>
public sealed class RateLimitingTests : IAsyncLifetime
{
    private readonly BrokerFactory broker = new BrokerFactory().With("Csp:Simulated:PoolSize", "220");

    public async Task InitializeAsync() => await broker.Get<SyncService>().RunOnceAsync(default);

    public async Task DisposeAsync() => await broker.DisposeAsync();

    [Fact]
    public async Task A_class_of_200_allocating_at_once_never_sees_a_429_nor_when_replaying()
    {
        using var client = broker.TrackClient();
        var watch = Stopwatch.StartNew();
        var first = await Task.WhenAll(Enumerable.Range(1, 200).Select(i => StatusAsync(client, HttpMethod.Post, "/v1/allocate", $"class-{i}")));
        var elapsed = watch.Elapsed;
        Assert.All(first, code => Assert.Equal(HttpStatusCode.Created, code));
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"200 allocations took {elapsed}");

        // Each participant's setup retried twice more, at once: replays, still no 429.
        var replays = await Task.WhenAll(Enumerable.Range(0, 400).Select(i => StatusAsync(client, HttpMethod.Post, "/v1/allocate", $"class-{i % 200 + 1}")));
        Assert.All(replays, code => Assert.Equal(HttpStatusCode.OK, code));
    }

    [Fact]
    public async Task One_requester_sending_500_requests_in_a_second_gets_429_with_retry_after_and_a_problem_body()
    {
        using var client = broker.TrackClient();
        string id;
        using (var allocated = await client.SendAsync(HttpMethod.Post, "/v1/allocate", "hammer"))
        {
            Assert.Equal(HttpStatusCode.Created, allocated.StatusCode);
            id = (await allocated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sandbox_id").GetString()!;
        }

        var watch = Stopwatch.StartNew();
        var responses = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => client.SendAsync(HttpMethod.Get, $"/v1/sandboxes/{id}", "hammer")));
        var elapsed = watch.Elapsed;
        try
        {
            var limited = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
            // The allocation took one token of 200; refilled at 50/s, the bucket lets 199 + 50 * elapsed through.
            Assert.True(elapsed < TimeSpan.FromSeconds(4), $"500 requests took {elapsed}");
            Assert.InRange(limited.Count, 500 - 199 - (int)Math.Ceiling(50 * elapsed.TotalSeconds) - 1, 500 - 199);
            Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.TooManyRequests), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));

            var refusal = limited[0];
            Assert.Equal("application/problem+json", refusal.Content.Headers.ContentType?.MediaType);
            var retryAfter = int.Parse(refusal.Header("Retry-After")!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(retryAfter, 1, 5);
            var body = await refusal.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(429, body.GetProperty("status").GetInt32());
            Assert.Equal("RATE_LIMIT_EXCEEDED", body.GetProperty("code").GetString());
            Assert.Equal(retryAfter, body.GetProperty("retry_after").GetInt32());
            Assert.Equal(refusal.Header("X-Request-ID"), body.GetProperty("request_id").GetString());
            Assert.Equal("50", refusal.Header("X-RateLimit-Limit"));
            Assert.Equal("0", refusal.Header("X-RateLimit-Remaining"));
            Assert.Equal("nosniff", refusal.Header("X-Content-Type-Options"));

            // Another participant of the same class is untouched.
            using var neighbour = await client.SendAsync(HttpMethod.Post, "/v1/allocate", "neighbour");
            Assert.Equal(HttpStatusCode.Created, neighbour.StatusCode);
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task Limited_responses_carry_the_rate_and_the_tokens_left_and_probes_and_metrics_are_exempt()
    {
        using var client = broker.TrackClient();
        using (var first = await client.SendAsync(HttpMethod.Post, "/v1/allocate", "headers-1"))
        {
            Assert.Equal("50", first.Header("X-RateLimit-Limit"));
            Assert.Equal("199", first.Header("X-RateLimit-Remaining"));
        }

        using (var second = await client.SendAsync(HttpMethod.Post, "/v1/allocate", "headers-1"))
        {
            Assert.InRange(int.Parse(second.Header("X-RateLimit-Remaining")!, System.Globalization.CultureInfo.InvariantCulture), 198, 199);
        }

        // A validation error is still a limited response (auth, validation, then the rate limit).
        using (var invalid = await client.SendAsync(HttpMethod.Post, "/v1/allocate", requester: null))
        {
            Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
            Assert.Equal("50", invalid.Header("X-RateLimit-Limit"));
        }

        using var anonymous = broker.AnonymousClient();
        foreach (var path in new[] { "/healthz", "/readyz", "/", "/metrics" })
        {
            var codes = await Task.WhenAll(Enumerable.Range(0, 300).Select(_ => StatusAsync(anonymous, HttpMethod.Get, path, null)));
            Assert.DoesNotContain(HttpStatusCode.TooManyRequests, codes);
            using var probe = await anonymous.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Null(probe.Header("X-RateLimit-Limit"));
        }
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, HttpMethod method, string path, string? requester)
    {
        using var response = await client.SendAsync(method, path, requester);
        return response.StatusCode;
    }
}

using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Reflection;
using Microsoft.Extensions.Options;
using SandboxBroker.Api.Http;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Edge;

/// <summary>RateLimiting options: defaults, validation, switching off; and buckets that do not outlive their use.</summary>
public sealed class RateLimitSettingsTests
{
    [Fact]
    public void Defaults_are_50_per_second_a_burst_of_200_and_a_token_ceiling_of_2000()
    {
        var options = new RateLimitingOptions();
        Assert.True(options.Enabled);
        Assert.Equal(50, options.PermitsPerSecond);
        Assert.Equal(200, options.Burst);
        Assert.Equal(2000, options.PerTokenPermitsPerSecond);
        Assert.Equal("RateLimiting", RateLimitingOptions.SectionName);
        Assert.Empty(Validate(options));
    }

    [Fact]
    public void A_token_ceiling_below_the_requester_rate_and_non_positive_values_are_rejected()
    {
        Assert.Contains(Validate(new RateLimitingOptions { PermitsPerSecond = 50, PerTokenPermitsPerSecond = 10 }),
            r => r.MemberNames.Contains(nameof(RateLimitingOptions.PerTokenPermitsPerSecond)));
        Assert.Contains(Validate(new RateLimitingOptions { PermitsPerSecond = 0 }),
            r => r.MemberNames.Contains(nameof(RateLimitingOptions.PermitsPerSecond)));
        Assert.Contains(Validate(new RateLimitingOptions { Burst = 0 }), r => r.MemberNames.Contains(nameof(RateLimitingOptions.Burst)));
    }

    [Fact]
    public async Task The_process_refuses_to_start_with_invalid_rate_limits()
    {
        var (exit, output) = await StartupFailure.RunAsync(("RateLimiting__PerTokenPermitsPerSecond", "10"));
        Assert.NotEqual(0, exit ?? 0);
        Assert.Contains("RateLimiting:PerTokenPermitsPerSecond must not be lower than RateLimiting:PermitsPerSecond", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Switched_off_nothing_is_limited_and_no_rate_headers_are_sent()
    {
        await using var broker = new BrokerFactory()
            .With("RateLimiting:Enabled", "false")
            .With("RateLimiting:PermitsPerSecond", "1")
            .With("RateLimiting:Burst", "1");
        using var client = broker.TrackClient();
        for (var i = 0; i < 10; i++)
        {
            using var response = await client.SendAsync(HttpMethod.Get, "/v1/sandboxes/x1", "off");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Null(response.Header("X-RateLimit-Limit"));
        }
    }

    [Fact]
    public async Task Buckets_of_requesters_gone_quiet_are_dropped()
    {
        using var limiter = new BrokerRateLimiter(Options.Create(new RateLimitingOptions()));
        for (var i = 0; i < 1000; i++)
        {
            Assert.True(limiter.Check(new RateLimitKey($"track:t:{i}", "t")).Allowed);
        }

        Assert.Equal(1000, CallerPartitions(limiter));

        // The framework drops a bucket that has been full (idle) for 10 s; refilling one token takes 20 ms here.
        var deadline = DateTime.UtcNow.AddSeconds(25);
        while (CallerPartitions(limiter) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
        }

        Assert.Equal(0, CallerPartitions(limiter));
        Assert.True(limiter.Check(new RateLimitKey("track:t:0", "t")).Allowed);   // and comes back fresh when needed
        Assert.Equal(1, CallerPartitions(limiter));
    }

    private static List<ValidationResult> Validate(RateLimitingOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }

    /// <summary>
    /// How many caller buckets the framework's partitioned limiter holds (its private dictionary: the behaviour under
    /// test is the framework's idle eviction, which has no public counter).
    /// </summary>
    private static int CallerPartitions(BrokerRateLimiter limiter)
    {
        var callers = typeof(BrokerRateLimiter).GetField("callers", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(limiter)!;
        var limiters = callers.GetType().GetField("_limiters", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(callers);
        Assert.True(limiters is System.Collections.ICollection, $"{callers.GetType()} has no _limiters dictionary any more");
        lock (limiters)
        {
            return ((System.Collections.ICollection)limiters).Count;
        }
    }
}

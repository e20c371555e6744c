using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
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
        var names = ChargeOnce(limiter, 1000);

        // Each caller name is a string of its own that, once ChargeOnce has returned, only the limiter can still hold
        // (as the key of the caller's bucket): every one is reachable while its bucket lives...
        Assert.Equal(1000, Reachable(names));

        // ...and collectable once the framework has dropped the bucket: it does so when a bucket has been full (idle)
        // for 10 s, on its own timer and the real clock (no TimeProvider to fake); one token refills in 20 ms here.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Reachable(names) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
        }

        Assert.Equal(0, Reachable(names));
        var fresh = limiter.Check(new RateLimitKey("track:t:0", "t"));   // and comes back fresh when needed
        Assert.True(fresh.Allowed);
        Assert.Equal(new RateLimitingOptions().Burst - 1, fresh.Remaining);
    }

    private static List<ValidationResult> Validate(RateLimitingOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }

    /// <summary>One request each from <paramref name="count"/> new callers; weak references to their names.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference<string>[] ChargeOnce(BrokerRateLimiter limiter, int count)
    {
        var names = new WeakReference<string>[count];
        for (var i = 0; i < count; i++)
        {
            var name = string.Concat("track:t:", i.ToString(CultureInfo.InvariantCulture)); // a new string, not interned
            Assert.True(limiter.Check(new RateLimitKey(name, "t")).Allowed);
            names[i] = new WeakReference<string>(name);
        }

        return names;
    }

    private static int Reachable(WeakReference<string>[] names)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return names.Count(n => n.TryGetTarget(out _));
    }
}

using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace SandboxBroker.Api.Http;

/// <summary>
/// Who a request is charged to: <see cref="Caller"/> names the caller's own bucket (token and requester on track
/// endpoints, token on admin endpoints, client IP when unauthenticated); <see cref="Token"/> names the token whose
/// ceiling also applies (null when unauthenticated). Neither ever holds a secret: tokens appear as their token_id.
/// </summary>
internal readonly record struct RateLimitKey(string Caller, string? Token);

/// <summary>The outcome of one check: whether it passed, what is left in the caller's bucket, when to retry.</summary>
internal readonly record struct RateLimitDecision(bool Allowed, long Remaining, int RetryAfterSeconds);

/// <summary>
/// The framework's token buckets (System.Threading.RateLimiting): one per token (its ceiling), then one per caller.
/// The token's ceiling is asked first, so a flood that it refuses creates no caller buckets at all. Buckets live in
/// <see cref="PartitionedRateLimiter"/>s, which replenish them on their own 100 ms timer and drop a bucket once it
/// has been full (idle) for about 10 s, so a stream of one-off requesters does not grow memory.
/// </summary>
internal sealed class BrokerRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<RateLimitKey> callers;
    private readonly PartitionedRateLimiter<RateLimitKey> tokens;

    public BrokerRateLimiter(IOptions<RateLimitingOptions> options)
    {
        var settings = options.Value;
        PermitsPerSecond = settings.PermitsPerSecond;
        var callerBucket = Bucket(settings.Burst, settings.PermitsPerSecond);
        var tokenBucket = Bucket(settings.PerTokenPermitsPerSecond, settings.PerTokenPermitsPerSecond);
        callers = PartitionedRateLimiter.Create<RateLimitKey, string>(
            key => RateLimitPartition.GetTokenBucketLimiter(key.Caller, _ => callerBucket));
        tokens = PartitionedRateLimiter.Create<RateLimitKey, string>(key => key.Token is { } token
            ? RateLimitPartition.GetTokenBucketLimiter(token, _ => tokenBucket)
            : RateLimitPartition.GetNoLimiter(string.Empty));
    }

    public int PermitsPerSecond { get; }

    public RateLimitDecision Check(RateLimitKey key)
    {
        using var tokenLease = tokens.AttemptAcquire(key);
        if (!tokenLease.IsAcquired)
        {
            return Refused(tokenLease, remaining: 0); // the caller's bucket is never looked up, so never created
        }

        using var callerLease = callers.AttemptAcquire(key);
        var remaining = callers.GetStatistics(key)?.CurrentAvailablePermits ?? 0;
        return callerLease.IsAcquired ? new RateLimitDecision(true, remaining, 0) : Refused(callerLease, remaining);
    }

    private static RateLimitDecision Refused(RateLimitLease lease, long remaining)
    {
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        return new RateLimitDecision(false, remaining, Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)));
    }

    public void Dispose()
    {
        tokens.Dispose();
        callers.Dispose();
    }

    // Replenished continuously by the partitioned limiter's timer (AutoReplenishment off: no timer per bucket).
    private static TokenBucketRateLimiterOptions Bucket(int size, int perSecond) => new()
    {
        TokenLimit = size,
        TokensPerPeriod = perSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        AutoReplenishment = false,
        QueueLimit = 0,
    };
}

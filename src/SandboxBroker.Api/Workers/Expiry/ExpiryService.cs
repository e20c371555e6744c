using Microsoft.Extensions.Options;
using SandboxBroker.Api.Configuration;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Workers.Runner;

namespace SandboxBroker.Api.Workers.Expiry;

public sealed record ExpiryResult(int Expired, long DurationMs);

/// <summary>
/// Auto-expiry: allocated sandboxes whose expiry plus Broker:GracePeriod has passed go to
/// pending_deletion, as if the holder had released them. The expiry is the stored expires_at, or allocated_at +
/// lab_duration_hours on items the original wrote. Each write is conditional on allocated and on the holder read,
/// so a release or a re-allocation in between is never overwritten.
/// </summary>
internal sealed partial class ExpiryService(
    ISandboxStore store,
    TimeProvider time,
    IOptionsMonitor<BrokerOptions> options,
    BrokerMetrics metrics,
    ILogger<ExpiryService> logger)
{
    public Task<ExpiryResult> RunOnceAsync(CancellationToken ct) => RunOnceAsync(null, ct);

    /// <summary>One pass; its counts go to <paramref name="progress"/> (the run record) when given.</summary>
    public async Task<ExpiryResult> RunOnceAsync(JobProgress? progress, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        try
        {
            var expired = await ExpireAsync(progress, ct);
            metrics.ExpiryTotal.WithLabels("success").Inc();
            var result = new ExpiryResult(expired, (long)time.GetElapsedTime(started).TotalMilliseconds);
            if (expired > 0)
            {
                LogExpired(logger, expired, result.DurationMs);
            }

            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            metrics.ExpiryTotal.WithLabels("error").Inc();
            throw;
        }
    }

    private async Task<int> ExpireAsync(JobProgress? progress, CancellationToken ct)
    {
        var now = time.NowEpochSeconds();
        var grace = options.CurrentValue.GracePeriod;
        var overdue = new List<Sandbox>();
        await foreach (var sandbox in store.ScanByStatusAsync(SandboxStatus.Allocated, ct))
        {
            progress?.Add(JobProgress.Examined);
            if (sandbox.IsOverdue(now, grace))
            {
                overdue.Add(sandbox);
            }
        }

        var expired = 0;
        foreach (var sandbox in overdue)
        {
            ct.ThrowIfCancellationRequested();
            // Conditional on the holder and the expires_at read: a release, a re-allocation or a lease extension in
            // between is never overwritten.
            var change = Transitions.Release(
                sandbox.SandboxId, now, holder: sandbox.AllocatedTo, ChangeCause.Job(JobNames.Expiry, $"lease ended at {sandbox.LeaseExpiresAt}"))
                with { RequireExpiresAt = sandbox.ExpiresAt ?? 0 };
            if (await store.TransitionAsync(change, ct) is TransitionResult.Applied)
            {
                expired++;
                progress?.Add(JobProgress.Changed);
                progress?.Add("expired");
                LogOne(logger, sandbox.SandboxId, sandbox.AllocatedTo!, sandbox.LeaseExpiresAt);
            }
        }

        return expired;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId} of {TrackId} expired (expires_at {ExpiresAt}); marked for deletion")]
    private static partial void LogOne(ILogger logger, string sandboxId, string trackId, long expiresAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Auto-expiry: {Expired} sandboxes marked for deletion in {DurationMs} ms")]
    private static partial void LogExpired(ILogger logger, int expired, long durationMs);
}

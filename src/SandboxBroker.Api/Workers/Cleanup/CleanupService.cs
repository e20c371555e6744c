using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using SandboxBroker.Api.Csp;
using SandboxBroker.Api.NiosXaas;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Workers.Runner;

namespace SandboxBroker.Api.Workers.Cleanup;

/// <summary>
/// <paramref name="Deleted"/>: tombstoned after CSP confirmed; <paramref name="Failed"/>: attempts that failed this
/// pass (<paramref name="GaveUp"/> of them went to deletion_failed); <paramref name="Skipped"/>: due but not tried
/// because the circuit opened (<paramref name="CircuitOpen"/>) or shutdown began (<paramref name="Stopped"/>).
/// </summary>
public sealed record CleanupResult(int Deleted, int Failed, int GaveUp, int Skipped, bool CircuitOpen, bool Stopped, long DurationMs);

/// <summary>
/// Deletes pending_deletion sandboxes upstream, oldest due first, in batches with delays between
/// batches and between sandboxes. A record leaves pending_deletion only after CSP confirmed (2xx or 404): then it
/// becomes a tombstone. A failed attempt keeps it pending with the attempt counted, the error and the next attempt
/// time (exponential backoff); after Jobs:Cleanup:MaxAttempts it goes to deletion_failed. An open circuit ends
/// the pass without counting attempts against the sandboxes not tried.
/// </summary>
internal sealed partial class CleanupService(
    ISandboxStore store,
    ICspProvider csp,
    NiosXaasCleanup niosXaas,
    TimeProvider time,
    IOptionsMonitor<JobsOptions> options,
    BrokerMetrics metrics,
    ILogger<CleanupService> logger)
{
    private const int MaxErrorLength = 500;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromDays(1);

    /// <summary>
    /// One pass. <paramref name="ct"/> asks the pass to stop after its current sandbox (shutdown): a CSP delete
    /// and its store write are never cut in half.
    /// </summary>
    public Task<CleanupResult> RunOnceAsync(CancellationToken ct) => RunOnceAsync(null, ct);

    /// <summary>One pass; each attempt is counted into <paramref name="progress"/> (the run record) as it lands.</summary>
    public async Task<CleanupResult> RunOnceAsync(JobProgress? progress, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        try
        {
            var result = await CleanAsync(started, progress ?? new JobProgress(), ct);
            metrics.CleanupTotal.WithLabels(result.CircuitOpen || result.Stopped ? "skipped" : "success").Inc();
            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            metrics.CleanupTotal.WithLabels("error").Inc();
            throw;
        }
        finally
        {
            metrics.CleanupDuration.Observe(time.GetElapsedTime(started).TotalSeconds);
        }
    }

    private async Task<CleanupResult> CleanAsync(long started, JobProgress progress, CancellationToken ct)
    {
        var settings = options.CurrentValue.Cleanup;
        var due = await DueAsync(time.NowEpochSeconds(), ct);
        progress.Add(JobProgress.Examined, due.Count);
        var preDelete = niosXaas.Enabled ? niosXaas.BeginPass() : null; // one NIOSXaaS sign-in per pass
        int deleted = 0, failed = 0, gaveUp = 0, done = 0;
        var circuitOpen = false;
        var stopped = false;
        for (var i = 0; i < due.Count && !circuitOpen; i++)
        {
            var pause = i == 0 ? TimeSpan.Zero : i % settings.BatchSize == 0 ? settings.BatchDelay : settings.PerSandboxDelay;
            if (!await PauseAsync(pause, ct) || ct.IsCancellationRequested)
            {
                stopped = true;
                break;
            }

            switch (await CleanOneAsync(due[i], settings, preDelete, progress))
            {
                case Attempt.Deleted:
                    deleted++;
                    done++;
                    progress.Add(JobProgress.Changed);
                    progress.Add("deleted");
                    break;
                case Attempt.Failed:
                    failed++;
                    done++;
                    progress.Add(JobProgress.Failed);
                    break;
                case Attempt.GaveUp:
                    failed++;
                    gaveUp++;
                    done++;
                    progress.Add(JobProgress.Failed);
                    progress.Add(JobProgress.Changed);
                    progress.Add("gave_up");
                    break;
                case Attempt.Conflict:
                    done++;
                    break;
                case Attempt.Postponed:
                    break; // counted as skipped: not attempted, no attempt burned
                default:
                    circuitOpen = true;
                    break;
            }
        }

        var skipped = due.Count - done;
        progress.Add(JobProgress.Skipped, skipped);
        if (circuitOpen)
        {
            LogCircuitOpen(logger, skipped);
        }

        var result = new CleanupResult(deleted, failed, gaveUp, skipped, circuitOpen, stopped, (long)time.GetElapsedTime(started).TotalMilliseconds);
        if (due.Count > 0)
        {
            LogPass(logger, due.Count, deleted, failed, gaveUp, skipped, result.DurationMs);
        }

        return result;
    }

    /// <summary>pending_deletion sandboxes whose next attempt is due (none set = due), the longest-waiting first.</summary>
    private async Task<List<Sandbox>> DueAsync(long now, CancellationToken ct)
    {
        var due = new List<Sandbox>();
        await foreach (var sandbox in store.ScanByStatusAsync(SandboxStatus.PendingDeletion, ct))
        {
            if (sandbox.NextAttemptAt is null || sandbox.NextAttemptAt <= now)
            {
                due.Add(sandbox);
            }
        }

        return [.. due.OrderBy(s => s.NextAttemptAt ?? 0).ThenBy(s => s.DeletionRequestedAt ?? 0).ThenBy(s => s.SandboxId, StringComparer.Ordinal)];
    }

    /// <summary>false when shutdown interrupted the pause.</summary>
    private async Task<bool> PauseAsync(TimeSpan pause, CancellationToken ct)
    {
        if (pause <= TimeSpan.Zero)
        {
            return true;
        }

        try
        {
            await Task.Delay(pause, time, ct);
            return true;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return false;
        }
    }

    private enum Attempt
    {
        Deleted,
        Failed,
        GaveUp,
        Conflict,
        CircuitOpen,
        Postponed,
    }

    /// <summary>
    /// One sandbox: the NIOSXaaS pre-delete step (when enabled and not done yet), the CSP delete and the store write
    /// that records it. Not cancellable half-way.
    /// </summary>
    private async Task<Attempt> CleanOneAsync(Sandbox sandbox, CleanupJobOptions settings, NiosXaasCleanup.Pass? preDelete, JobProgress progress)
    {
        if (preDelete is not null && sandbox.NiosxaasCleanedAt is null)
        {
            var step = await preDelete.CleanAsync(sandbox, CancellationToken.None);
            progress.Add("niosxaas_" + step.Outcome);
            var note = Transitions.NiosXaasStep(sandbox.SandboxId, time.NowEpochSeconds(), step.Mark(time.NowEpochSeconds()),
                ChangeCause.Job(JobNames.Cleanup, step.Describe()));
            if (await store.TransitionAsync(note, CancellationToken.None) is not TransitionResult.Applied)
            {
                return Attempt.Conflict; // moved meanwhile (an operator's bulk delete): not ours to delete any more
            }

            // A failed step holds up the account delete only when configured to (the delete removes the services too).
            if (step.IsFailure && niosXaas.BlockDeletionOnFailure)
            {
                return step.CircuitOpen
                    ? Attempt.Postponed
                    : await RecordFailureAsync(sandbox, new NiosXaasException("NIOSXaaS pre-delete step failed: " + step.Error), settings, "NIOSXaaS step failed");
            }
        }

        try
        {
            await csp.DeleteSandboxAsync(sandbox, CancellationToken.None);
        }
        catch (BrokenCircuitException)
        {
            return Attempt.CircuitOpen;
        }
        catch (CspException ex)
        {
            // Only what the CSP answered (or failed to) counts as an attempt; a bug here ends the pass as an error
            // instead of burning the sandbox's attempts on its way to deletion_failed.
            return await RecordFailureAsync(sandbox, ex, settings);
        }

        var tombstone = Transitions.Deleted(sandbox.SandboxId, time.NowEpochSeconds(), ChangeCause.Job(JobNames.Cleanup, "deleted upstream"));
        if (await store.TransitionAsync(tombstone, CancellationToken.None) is TransitionResult.Applied)
        {
            LogDeleted(logger, sandbox.SandboxId, sandbox.DeletionRetryCount + 1);
            return Attempt.Deleted;
        }

        return Attempt.Conflict; // someone else moved it meanwhile (an operator's bulk delete): nothing to record
    }

    private async Task<Attempt> RecordFailureAsync(Sandbox sandbox, Exception error, CleanupJobOptions settings, string reason = "CSP delete failed")
    {
        var now = time.NowEpochSeconds();
        var attempt = sandbox.DeletionRetryCount + 1;
        var message = Truncate(error.Message);
        var change = Transitions.DeleteAttemptFailed(
            sandbox, now, message, settings.MaxAttempts, Backoff(settings.BackoffBase, attempt, error), ChangeCause.Job(JobNames.Cleanup, reason));
        if (await store.TransitionAsync(change, CancellationToken.None) is not TransitionResult.Applied)
        {
            return Attempt.Conflict;
        }

        if (change.To == SandboxStatus.DeletionFailed)
        {
            LogGaveUp(logger, sandbox.SandboxId, attempt, message);
            return Attempt.GaveUp;
        }

        LogFailed(logger, sandbox.SandboxId, attempt, settings.MaxAttempts, message, change.NextAttemptAt ?? now);
        return Attempt.Failed;
    }

    /// <summary>BackoffBase * 2^(attempt-1), capped at a day, and never sooner than CSP's own Retry-After.</summary>
    internal static TimeSpan Backoff(TimeSpan backoffBase, int attempt, Exception? error = null)
    {
        var seconds = backoffBase.TotalSeconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        var backoff = seconds >= MaxBackoff.TotalSeconds ? MaxBackoff : TimeSpan.FromSeconds(seconds);
        return error is CspException { RetryAfter: { } retryAfter } && retryAfter > backoff && retryAfter <= MaxBackoff ? retryAfter : backoff;
    }

    private static string Truncate(string message) => message.Length <= MaxErrorLength ? message : message[..MaxErrorLength];
}

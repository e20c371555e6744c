using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Workers.Runner;

/// <summary>
/// Runs job passes so that each job runs once per period cluster-wide (SPEC section 7). A periodic pass runs only
/// when the job's last_run_at is a period old, and only after taking the job's run lock with a compare-and-set on
/// that last_run_at (so of several replicas that find it due, one runs it); the lock is renewed while the pass
/// runs and released with the pass's outcome. Admin triggers (<see cref="RunOnDemandAsync{T}"/>) ignore the
/// period but still take the lock. Within this process a gate per job keeps passes of one job from overlapping.
/// </summary>
internal sealed partial class JobRunner(
    ISandboxStore store,
    TimeProvider time,
    IOptionsMonitor<JobsOptions> options,
    JobInstance instance,
    BrokerMetrics metrics,
    ILogger<JobRunner> logger) : IDisposable
{
    private static readonly TimeSpan LockPoll = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxTolerance = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, SemaphoreSlim> gates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, byte> inFlight = new();
    private readonly CancellationTokenSource stopping = new();

    public string Owner => instance.Owner;

    /// <summary>One periodic tick: run the job if it is due and this instance wins its run lock.</summary>
    public async Task<JobTick> TryRunPeriodicAsync(IBrokerJob job, CancellationToken ct)
    {
        var state = await store.GetJobStateAsync(job.Name, ct);
        var lastRun = state?.LastRunAt ?? 0;
        var interval = job.IntervalFor(state);
        if (lastRun > 0 && !IsDue(lastRun, interval))
        {
            return new JobTick.NotDue(state, lastRun + (long)interval.TotalSeconds);
        }

        var gate = Gate(job.Name);
        if (!await gate.WaitAsync(TimeSpan.Zero, ct))
        {
            return new JobTick.Busy(state); // an admin-triggered pass of this job runs here right now
        }

        try
        {
            if (!await TryAcquireAsync(job.Name, lastRun, ct))
            {
                LogNotOurs(logger, job.Name, state?.LeaseOwner ?? "another instance");
                return new JobTick.Busy(state);
            }

            var outcome = await TrackAsync(RunLeasedAsync(job.Name, job.RunPassAsync, static v => v, ct));
            return new JobTick.Ran(state, outcome.Verdict);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Runs a pass now, whatever the period: waits up to Jobs:AdminWait for a running pass (here or on another
    /// instance) to release the run lock, then runs under it. With <paramref name="answerWithinWait"/> the caller gets
    /// <see cref="OnDemandRun{T}.Running"/> when the pass is not done by the end of that wait (counted from the
    /// call); the pass goes on in the background, visible in GET /admin/jobs. A pass's exception is rethrown.
    /// </summary>
    public async Task<OnDemandRun<T>> RunOnDemandAsync<T>(
        string job, Func<CancellationToken, Task<T>> pass, Func<T, JobVerdict> verdictOf, bool answerWithinWait, CancellationToken ct)
    {
        var wait = options.CurrentValue.AdminWait;
        var started = time.GetTimestamp();
        if (stopping.IsCancellationRequested)
        {
            return new OnDemandRun<T>.Stopping();
        }

        var gate = Gate(job);
        if (!await WaitForLockAsync(job, gate, wait, ct))
        {
            var state = await store.GetJobStateAsync(job, ct);
            return new OnDemandRun<T>.Busy(LeaseHolder(state, time.NowEpochSeconds()));
        }

        var task = TrackAsync(RunAndReleaseAsync(job, pass, verdictOf, gate));
        PassOutcome<T> outcome;
        if (answerWithinWait)
        {
            var remaining = wait - time.GetElapsedTime(started);
            try
            {
                outcome = await task.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, time, ct);
            }
            catch (TimeoutException)
            {
                return new OnDemandRun<T>.Running(Owner);
            }
        }
        else
        {
            outcome = await task.WaitAsync(ct);
        }

        outcome.ThrowIfFailed();
        return new OnDemandRun<T>.Completed(outcome.Result!);
    }

    /// <summary>On shutdown: ask running passes to stop after their current step.</summary>
    public void BeginShutdown()
    {
        if (!stopping.IsCancellationRequested)
        {
            stopping.Cancel();
        }
    }

    /// <summary>Waits (bounded by <paramref name="ct"/>) for running passes to finish and release their locks.</summary>
    public async Task DrainAsync(CancellationToken ct)
    {
        try
        {
            await Task.WhenAll(inFlight.Keys).WaitAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            LogDrainTimedOut(logger, inFlight.Count);
        }
    }

    public bool IsRunningHere(string job) => gates.TryGetValue(job, out var gate) && gate.CurrentCount == 0;

    public void Dispose()
    {
        stopping.Dispose();
        foreach (var gate in gates.Values)
        {
            gate.Dispose();
        }
    }

    /// <summary>The instance holding the job's run lock now, or null when it is free (released or expired).</summary>
    internal static string? LeaseHolder(JobState? state, long now) =>
        state is { LeaseOwner: { } owner } && state.LeaseExpiresAt > now ? owner : null;

    /// <summary>Due a little early rather than a period late: timer ticks and second-granular times jitter.</summary>
    private bool IsDue(long lastRunAt, TimeSpan interval)
    {
        var tolerance = interval / 10 < MaxTolerance ? interval / 10 : MaxTolerance;
        var dueAt = DateTimeOffset.FromUnixTimeSeconds(lastRunAt) + interval - tolerance;
        return time.GetUtcNow() >= dueAt;
    }

    private SemaphoreSlim Gate(string job) => gates.GetOrAdd(job, static _ => new SemaphoreSlim(1, 1));

    private Task<bool> TryAcquireAsync(string job, long? expectedLastRunAt, CancellationToken ct)
    {
        var now = time.NowEpochSeconds();
        return store.TryAcquireJobLeaseAsync(new JobLeaseRequest
        {
            Job = job,
            Owner = Owner,
            Now = now,
            LeaseUntil = LeaseUntil(now),
            ExpectedLastRunAt = expectedLastRunAt,
        }, ct);
    }

    private long LeaseUntil(long now) => now + (long)Math.Ceiling(options.CurrentValue.LeaseDuration.TotalSeconds);

    /// <summary>Takes the local gate and then the run lock within <paramref name="wait"/>; false when either stayed busy.</summary>
    private async Task<bool> WaitForLockAsync(string job, SemaphoreSlim gate, TimeSpan wait, CancellationToken ct)
    {
        using var deadline = new CancellationTokenSource(wait, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            await gate.WaitAsync(linked.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            return false;
        }

        try
        {
            while (!await TryAcquireAsync(job, null, ct))
            {
                await Task.Delay(LockPoll, time, linked.Token);
            }

            return true;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            gate.Release();
            return false;
        }
        catch
        {
            gate.Release();
            throw;
        }
    }

    private async Task<PassOutcome<T>> RunAndReleaseAsync<T>(
        string job, Func<CancellationToken, Task<T>> pass, Func<T, JobVerdict> verdictOf, SemaphoreSlim gate)
    {
        try
        {
            await Task.Yield(); // the pass outlives the request that started it
            return await RunLeasedAsync(job, pass, verdictOf, stopping.Token);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Runs one pass under a run lock already taken: renews it meanwhile, records the outcome, releases it.</summary>
    private async Task<PassOutcome<T>> RunLeasedAsync<T>(
        string job, Func<CancellationToken, Task<T>> pass, Func<T, JobVerdict> verdictOf, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        LogPassStarted(logger, job, Owner);
        using var passCancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var renewalStop = new CancellationTokenSource();
        var renewal = RenewWhileRunningAsync(job, passCancel, renewalStop.Token);
        PassOutcome<T> outcome;
        try
        {
            var result = await pass(passCancel.Token);
            outcome = new PassOutcome<T>(result, verdictOf(result), null);
        }
        catch (Exception ex)
        {
            outcome = new PassOutcome<T>(default, VerdictOf(ex, passCancel.IsCancellationRequested), ex);
            if (outcome.Verdict == JobVerdict.Error)
            {
                LogPassFailed(logger, job, ex);
            }
        }

        await renewalStop.CancelAsync();
        await renewal;
        var elapsed = time.GetElapsedTime(started);
        metrics.JobDuration.WithLabels(job).Observe(elapsed.TotalSeconds);
        if (outcome.Verdict.Succeeded)
        {
            metrics.JobLastSuccess.WithLabels(job).Set(time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0);
        }

        await CompleteAsync(job, outcome.Verdict, elapsed);
        LogPassEnded(logger, job, outcome.Verdict.Outcome, (long)elapsed.TotalMilliseconds);
        return outcome;
    }

    private static JobVerdict VerdictOf(Exception exception, bool cancelled) => exception switch
    {
        BrokenCircuitException => JobVerdict.Skipped,
        OperationCanceledException when cancelled => JobVerdict.Stopped,
        _ => JobVerdict.Error,
    };

    private async Task RenewWhileRunningAsync(string job, CancellationTokenSource passCancel, CancellationToken stop)
    {
        var period = options.CurrentValue.LeaseDuration / 3;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, time, stop);
                if (!await store.RenewJobLeaseAsync(job, Owner, LeaseUntil(time.NowEpochSeconds()), stop))
                {
                    // Another instance may run the job now: stop after the current step rather than overlap for long.
                    LogLeaseLost(logger, job);
                    await passCancel.CancelAsync();
                    return;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogRenewFailed(logger, job, ex.Message); // a store blip: the lease still has two thirds to run
            }
        }
    }

    private async Task CompleteAsync(string job, JobVerdict verdict, TimeSpan elapsed)
    {
        try
        {
            await store.CompleteJobAsync(new JobCompletion
            {
                Job = job,
                Owner = Owner,
                FinishedAt = time.NowEpochSeconds(),
                Outcome = verdict.Outcome,
                DurationMs = (long)elapsed.TotalMilliseconds,
                Succeeded = verdict.Succeeded,
            }, CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogCompleteFailed(logger, job, ex.Message); // the lock then expires on its own after Jobs:LeaseDuration
        }
    }

    private async Task<TResult> TrackAsync<TResult>(Task<TResult> task)
    {
        inFlight.TryAdd(task, 0);
        try
        {
            return await task;
        }
        finally
        {
            inFlight.TryRemove(task, out _);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {Job} pass started on {Owner}")]
    private static partial void LogPassStarted(ILogger logger, string job, string owner);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job} pass ended: {Outcome} in {DurationMs} ms")]
    private static partial void LogPassEnded(ILogger logger, string job, string outcome, long durationMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {Job} pass failed")]
    private static partial void LogPassFailed(ILogger logger, string job, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {Job} is due but runs elsewhere ({Holder})")]
    private static partial void LogNotOurs(ILogger logger, string job, string holder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job} lost its run lock; the pass stops after its current step")]
    private static partial void LogLeaseLost(ILogger logger, string job);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job} could not renew its run lock: {Reason}")]
    private static partial void LogRenewFailed(ILogger logger, string job, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job} could not record its outcome: {Reason}")]
    private static partial void LogCompleteFailed(ILogger logger, string job, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown: {Count} job passes were still running")]
    private static partial void LogDrainTimedOut(ILogger logger, int count);
}

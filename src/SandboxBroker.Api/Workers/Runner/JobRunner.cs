using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Workers.Runner;

/// <summary>
/// Runs job passes so that each job runs once per period cluster-wide. A periodic pass runs only
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
    private const string ScheduleTrigger = "schedule";
    private const string AdminTrigger = "admin";
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
            var run = new PassRun(job.Name, JobRunIds.New(job.Name, time.NowEpochSeconds()), ScheduleTrigger);
            if (!await TryAcquireAsync(job.Name, lastRun, run.RunId, ct))
            {
                LogNotOurs(logger, job.Name, state?.LeaseOwner ?? "another instance");
                return new JobTick.Busy(state);
            }

            var outcome = await TrackAsync(RunLeasedAsync(run, job.RunPassAsync, static v => v, ct));
            return new JobTick.Ran(state, outcome.Verdict, run.RunId);
        }
        finally
        {
            gate.Release();
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

    private Task<bool> TryAcquireAsync(string job, long? expectedLastRunAt, string runId, CancellationToken ct)
    {
        var now = time.NowEpochSeconds();
        return store.TryAcquireJobLeaseAsync(new JobLeaseRequest
        {
            Job = job,
            Owner = Owner,
            Now = now,
            LeaseUntil = LeaseUntil(now),
            ExpectedLastRunAt = expectedLastRunAt,
            RunId = runId,
        }, ct);
    }

    private long LeaseUntil(long now) => now + (long)Math.Ceiling(options.CurrentValue.LeaseDuration.TotalSeconds);

    /// <summary>Runs one pass under a run lock already taken: renews it meanwhile, records the outcome, releases it.</summary>
    [SuppressMessage("Design", "CA1031:Do not catch general exception types",
        Justification = "Whatever ends a pass is its outcome: recorded, counted and handed to the caller, never lost.")]
    private async Task<PassOutcome<T>> RunLeasedAsync<T>(
        PassRun run, Func<JobProgress, CancellationToken, Task<T>> pass, Func<T, JobVerdict> verdictOf, CancellationToken ct)
    {
        var job = run.Job;
        var started = time.GetTimestamp();
        LogPassStarted(logger, job, Owner);
        var progress = new JobProgress();
        var record = new JobRun
        {
            RunId = run.RunId,
            Job = job,
            Trigger = run.Trigger,
            Instance = Owner,
            StartedAt = time.NowEpochSeconds(),
            UpdatedAt = time.NowEpochSeconds(),
            Counts = progress.Snapshot(),
        };
        await SaveRunAsync(record);
        using var passCancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var renewalStop = new CancellationTokenSource();
        var renewal = RenewWhileRunningAsync(job, passCancel, renewalStop.Token);
        var reporting = ReportWhileRunningAsync(record, progress, renewalStop.Token);
        PassOutcome<T> outcome;
        try
        {
            var result = await pass(progress, passCancel.Token);
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
        await reporting;
        await SaveRunAsync(record with
        {
            FinishedAt = time.NowEpochSeconds(),
            UpdatedAt = time.NowEpochSeconds(),
            Outcome = outcome.Verdict.Outcome,
            Counts = progress.Snapshot(),
        });
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
            catch (StoreUnavailableException ex)
            {
                LogRenewFailed(logger, job, ex.Message); // a store blip: the lease still has two thirds to run
            }
        }
    }

    /// <summary>Stores the run's counts while it runs, whenever they moved, every Jobs:RunProgressInterval.</summary>
    private async Task ReportWhileRunningAsync(JobRun record, JobProgress progress, CancellationToken stop)
    {
        var saved = progress.Version;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.CurrentValue.RunProgressInterval, time, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }

            var version = progress.Version;
            if (version != saved)
            {
                saved = version;
                await SaveRunAsync(record with { UpdatedAt = time.NowEpochSeconds(), Counts = progress.Snapshot() });
            }
        }
    }

    /// <summary>A run record that cannot be written (a store blip) is logged; the pass itself goes on.</summary>
    private async Task SaveRunAsync(JobRun record)
    {
        try
        {
            await store.SaveJobRunAsync(record, CancellationToken.None);
        }
        catch (StoreUnavailableException ex)
        {
            LogRunNotSaved(logger, record.Job, record.RunId, ex.Message);
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
        catch (StoreUnavailableException ex)
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
}

using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using SandboxBroker.Api.Csp;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Workers.Cleanup;
using SandboxBroker.Api.Workers.Expiry;
using SandboxBroker.Api.Workers.Runner;
using SandboxBroker.Api.Workers.StalePurge;
using SandboxBroker.Api.Workers.Sync;

namespace SandboxBroker.Api.Workers;

/// <summary>
/// The admin side of the jobs: run one now, ignoring the period but under the job's run lock, and
/// report every job's state. Expected outcomes (CSP failing, circuit open, a pass still running) are values.
/// </summary>
internal sealed class JobTriggers(
    JobRunner runner,
    SyncService sync,
    CleanupService cleanup,
    ExpiryService expiry,
    StalePurgeService purge,
    ReadinessState readiness,
    IEnumerable<IBrokerJob> jobs,
    ISandboxStore store,
    TimeProvider time,
    IOptionsMonitor<JobsOptions> options)
{
    private const int LastRunsShown = 5;
    private static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(30);

    public async Task<TriggerOutcome<SyncResult>> SyncAsync(CancellationToken ct)
    {
        var outcome = await RunAsync(JobNames.Sync, sync.RunOnceAsync, SyncJob.Verdict, answerWithinWait: false, ct);
        if (outcome is TriggerOutcome<SyncResult>.Completed or TriggerOutcome<SyncResult>.UpstreamFailed)
        {
            readiness.MarkFirstSyncAttempted();
        }

        return outcome;
    }

    public Task<TriggerOutcome<CleanupResult>> CleanupAsync(CancellationToken ct) =>
        RunAsync(JobNames.Cleanup, cleanup.RunOnceAsync, CleanupJob.Verdict, answerWithinWait: true, ct);

    public Task<TriggerOutcome<ExpiryResult>> ExpireAsync(CancellationToken ct) =>
        RunAsync(JobNames.Expiry, expiry.RunOnceAsync, static _ => JobVerdict.Success, answerWithinWait: false, ct);

    public Task<TriggerOutcome<StalePurgeResult>> PurgeStaleAsync(TimeSpan grace, CancellationToken ct) =>
        RunAsync(JobNames.StalePurge, (progress, token) => purge.RunOnceAsync(grace, progress, token), static _ => JobVerdict.Success,
            answerWithinWait: false, ct);

    public async Task<JobsOverview> OverviewAsync(CancellationToken ct)
    {
        var enabled = options.CurrentValue.Enabled;
        var states = (await store.ListJobStatesAsync(ct)).ToDictionary(s => s.Job, StringComparer.Ordinal);
        var now = time.NowEpochSeconds();
        var list = new List<JobStatus>();
        foreach (var job in jobs)
        {
            states.Remove(job.Name, out var state);
            list.Add(StatusOf(job.Name, state, enabled, (long)job.IntervalFor(state).TotalSeconds, now, await LastRunsAsync(job.Name, ct)));
        }

        // Jobs other code runs through the store's job table (none registered here) are shown as they are.
        foreach (var state in states.Values)
        {
            list.Add(StatusOf(state.Job, state, enabled: false, intervalSeconds: 0, now, await LastRunsAsync(state.Job, ct)));
        }

        return new JobsOverview(runner.Owner, enabled, list);
    }

    /// <summary>A run's record (from any replica), or null when it is not (or no longer) kept.</summary>
    public async Task<JobRunResponse?> RunAsync(string runId, CancellationToken ct) =>
        await store.GetJobRunAsync(runId, ct) is { } run ? JobRunResponse.From(run) : null;

    private async Task<IReadOnlyList<JobRunResponse>> LastRunsAsync(string job, CancellationToken ct) =>
        [.. (await store.ListJobRunsAsync(job, LastRunsShown, ct)).Select(JobRunResponse.From)];

    private JobStatus StatusOf(string name, JobState? state, bool enabled, long intervalSeconds, long now, IReadOnlyList<JobRunResponse> lastRuns)
    {
        var holder = JobRunner.LeaseHolder(state, now);
        long? nextRun = !enabled || intervalSeconds == 0 ? null
            : state is { LastRunAt: > 0 } ? state.LastRunAt + intervalSeconds
            : now;
        return new JobStatus(
            name,
            enabled,
            intervalSeconds,
            state is { LastRunAt: > 0 } ? state.LastRunAt : null,
            state?.LastFinishedAt,
            state?.LastOutcome,
            state?.LastDurationMs,
            state?.LastSuccessAt,
            nextRun,
            holder is not null || runner.IsRunningHere(name),
            holder,
            holder is not null ? state!.LeaseExpiresAt : null,
            lastRuns);
    }

    private async Task<TriggerOutcome<T>> RunAsync<T>(
        string job, Func<JobProgress, CancellationToken, Task<T>> pass, Func<T, JobVerdict> verdictOf, bool answerWithinWait, CancellationToken ct)
    {
        try
        {
            return await runner.RunOnDemandAsync(job, pass, verdictOf, answerWithinWait, ct) switch
            {
                OnDemandRun<T>.Completed completed => new TriggerOutcome<T>.Completed(completed.Result, completed.RunId),
                OnDemandRun<T>.Running running => new TriggerOutcome<T>.Running(running.Holder, running.RunId),
                OnDemandRun<T>.Stopping => new TriggerOutcome<T>.Unavailable(),
                OnDemandRun<T>.Busy busy => new TriggerOutcome<T>.Running(busy.Holder, busy.RunId),
                _ => throw new InvalidOperationException("unknown run outcome"),
            };
        }
        catch (BrokenCircuitException ex)
        {
            return new TriggerOutcome<T>.CircuitOpen(ex.RetryAfter is { } after && after > TimeSpan.Zero ? after : DefaultRetryAfter);
        }
        catch (CspException ex)
        {
            return new TriggerOutcome<T>.UpstreamFailed(ex.Message);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new TriggerOutcome<T>.Unavailable(); // shutdown stopped the pass
        }
    }
}

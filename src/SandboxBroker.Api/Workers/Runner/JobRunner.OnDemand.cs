using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Workers.Runner;

/// <summary>Admin-triggered passes and shutdown.</summary>
internal sealed partial class JobRunner
{
    /// <summary>
    /// Runs a pass now, whatever the period: waits up to Jobs:AdminWait for a running pass (here or on another
    /// instance) to release the run lock, then runs under it. With <paramref name="answerWithinWait"/> the caller gets
    /// <see cref="OnDemandRun{T}.Running"/> when the pass is not done by the end of that wait (counted from the
    /// call); the pass goes on in the background, visible in GET /admin/jobs. A pass's exception is rethrown.
    /// </summary>
    public async Task<OnDemandRun<T>> RunOnDemandAsync<T>(
        string job, Func<JobProgress, CancellationToken, Task<T>> pass, Func<T, JobVerdict> verdictOf, bool answerWithinWait, CancellationToken ct)
    {
        var wait = options.CurrentValue.AdminWait;
        var started = time.GetTimestamp();
        if (stopping.IsCancellationRequested)
        {
            return new OnDemandRun<T>.Stopping();
        }

        var gate = Gate(job);
        var run = new PassRun(job, JobRunIds.New(job, time.NowEpochSeconds()), AdminTrigger);
        if (!await WaitForLockAsync(job, run.RunId, gate, wait, ct))
        {
            var state = await store.GetJobStateAsync(job, ct);
            var holder = LeaseHolder(state, time.NowEpochSeconds());
            return new OnDemandRun<T>.Busy(holder, holder is not null ? state?.CurrentRunId : null);
        }

        var task = TrackAsync(RunAndReleaseAsync(run, pass, verdictOf, gate));
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
                return new OnDemandRun<T>.Running(Owner, run.RunId);
            }
        }
        else
        {
            outcome = await task.WaitAsync(ct);
        }

        outcome.ThrowIfFailed();
        return new OnDemandRun<T>.Completed(outcome.Result!, run.RunId);
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

    /// <summary>Takes the local gate and then the run lock within <paramref name="wait"/>; false when either stayed busy.</summary>
    private async Task<bool> WaitForLockAsync(string job, string runId, SemaphoreSlim gate, TimeSpan wait, CancellationToken ct)
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
            while (!await TryAcquireAsync(job, null, runId, ct))
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
        PassRun run, Func<JobProgress, CancellationToken, Task<T>> pass, Func<T, JobVerdict> verdictOf, SemaphoreSlim gate)
    {
        try
        {
            await Task.Yield(); // the pass outlives the request that started it
            return await RunLeasedAsync(run, pass, verdictOf, stopping.Token);
        }
        finally
        {
            gate.Release();
        }
    }
}

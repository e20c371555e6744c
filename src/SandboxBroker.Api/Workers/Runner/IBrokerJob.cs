using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Workers.Runner;

/// <summary>The job names: the store's job keys, the `job` metric label and what GET /admin/jobs shows.</summary>
internal static class JobNames
{
    public const string Sync = "sync";
    public const string Cleanup = "cleanup";
    public const string Expiry = "expiry";
    public const string StalePurge = "stale_purge";
    public const string Invariants = "invariants";
    public const string Reservations = "reservations";
}

/// <summary>
/// A periodic job run by <see cref="JobWorker{TJob}"/> through <see cref="JobRunner"/>: cluster-wide once per
/// <see cref="IntervalFor"/>, under the job's run lock.
/// </summary>
internal interface IBrokerJob
{
    string Name { get; }

    /// <summary>The period, given the job's stored state (sync retries sooner until a sync has succeeded).</summary>
    TimeSpan IntervalFor(JobState? state);

    /// <summary>One pass, counting into <paramref name="progress"/>; exceptions are recorded by the runner as its outcome.</summary>
    Task<JobVerdict> RunPassAsync(JobProgress progress, CancellationToken ct);

    /// <summary>Called after every periodic tick, whatever happened (sync marks readiness here).</summary>
    void Observe(JobTick tick);
}

/// <summary>How a pass ended: the outcome stored for GET /admin/jobs, and whether it counts as a success.</summary>
internal sealed record JobVerdict(string Outcome, bool Succeeded)
{
    public static readonly JobVerdict Success = new("success", true);
    public static readonly JobVerdict Guarded = new("guarded", true);
    public static readonly JobVerdict Error = new("error", false);
    /// <summary>The CSP circuit was open: nothing was attempted (or the pass ended early).</summary>
    public static readonly JobVerdict Skipped = new("skipped", false);
    /// <summary>Shutdown, or the run lock was lost, ended the pass early.</summary>
    public static readonly JobVerdict Stopped = new("stopped", false);
}

/// <summary>What one periodic tick did. <see cref="State"/> is the job state read before deciding.</summary>
internal abstract record JobTick(JobState? State)
{
    public sealed record Ran(JobState? State, JobVerdict Verdict, string RunId) : JobTick(State);

    /// <summary>The job ran less than a period ago (on any instance).</summary>
    public sealed record NotDue(JobState? State, long NextRunAt) : JobTick(State);

    /// <summary>Another pass holds the run lock, or another instance won the compare-and-set on last_run_at.</summary>
    public sealed record Busy(JobState? State) : JobTick(State);
}

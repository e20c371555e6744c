namespace SandboxBroker.Api.Workers;

/// <summary>What an admin-triggered job came to, for the admin endpoints to map to HTTP.</summary>
public abstract record TriggerOutcome<T>
{
    private TriggerOutcome()
    {
    }

    public sealed record Completed(T Result, string RunId) : TriggerOutcome<T>;

    /// <summary>
    /// A pass (ours, continuing in the background, or another one holding the run lock) is still running;
    /// <see cref="RunId"/> names it when known.
    /// </summary>
    public sealed record Running(string? LeaseHolder, string? RunId) : TriggerOutcome<T>;

    /// <summary>CSP failed the pass (error status, timeout, malformed body).</summary>
    public sealed record UpstreamFailed(string Reason) : TriggerOutcome<T>;

    /// <summary>The CSP circuit is open: nothing was attempted.</summary>
    public sealed record CircuitOpen(TimeSpan RetryAfter) : TriggerOutcome<T>;

    /// <summary>This instance is shutting down.</summary>
    public sealed record Unavailable : TriggerOutcome<T>;
}

/// <summary>One job as GET /admin/jobs shows it (times in epoch seconds).</summary>
public sealed record JobStatus(
    string Name,
    bool Enabled,
    long IntervalSeconds,
    long? LastRunAt,
    long? LastFinishedAt,
    string? LastOutcome,
    long? LastDurationMs,
    long? LastSuccessAt,
    long? NextRunAt,
    bool Running,
    string? LeaseHolder,
    long? LeaseExpiresAt,
    IReadOnlyList<JobRunResponse> LastRuns);

/// <summary>One run's record as GET /admin/jobs/runs/{run_id} and GET /admin/jobs show it (times in epoch seconds).</summary>
public sealed record JobRunResponse(
    string RunId,
    string Job,
    string Trigger,
    string Instance,
    long StartedAt,
    long? FinishedAt,
    string Status,
    string? Outcome,
    long UpdatedAt,
    IReadOnlyDictionary<string, long> Counts)
{
    public static JobRunResponse From(Storage.JobRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new JobRunResponse(run.RunId, run.Job, run.Trigger, run.Instance, run.StartedAt, run.FinishedAt,
            run.FinishedAt is null ? "running" : "finished", run.Outcome, run.UpdatedAt, run.Counts);
    }
}

public sealed record JobsOverview(string Instance, bool JobsEnabled, IReadOnlyList<JobStatus> Jobs);

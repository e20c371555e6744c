using System.ComponentModel.DataAnnotations;

namespace SandboxBroker.Api.Workers;

/// <summary>Section "Jobs".</summary>
public sealed class JobsOptions
{
    public const string SectionName = "Jobs";

    /// <summary>false turns every worker off (start-up sync included); admin triggers still run on demand.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long a run lock lasts without renewal; renewed while a pass runs.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "01:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long an admin trigger waits for a running pass to release the run lock, and how long POST /cleanup waits
    /// for its own pass before answering status "running" (the pass goes on in the background).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan AdminWait { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How often a running pass stores its counts in its run record (at most 5 s, so operators see it move).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:00:05")]
    public TimeSpan RunProgressInterval { get; set; } = TimeSpan.FromSeconds(2);

    public SyncJobOptions Sync { get; set; } = new();
    public CleanupJobOptions Cleanup { get; set; } = new();
    public ExpiryJobOptions Expiry { get; set; } = new();
    public StalePurgeJobOptions StalePurge { get; set; } = new();
    public InvariantsJobOptions Invariants { get; set; } = new();
    public ReservationsJobOptions Reservations { get; set; } = new();
}

/// <summary>Reservations end within a minute of ends_at (SPEC 14).</summary>
public sealed class ReservationsJobOptions
{
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);
}

public sealed class SyncJobOptions
{
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Retry period while no sync has succeeded yet.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Blast-radius guard: a sync that would stale more than this fraction of the available pool stales nothing.</summary>
    [Range(0.0, 1.0)]
    public double MaxStaleFraction { get; set; } = 0.5;
}

public sealed class CleanupJobOptions
{
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);

    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan BackoffBase { get; set; } = TimeSpan.FromMinutes(1);

    [Range(1, 1000)]
    public int BatchSize { get; set; } = 10;

    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan BatchDelay { get; set; } = TimeSpan.FromSeconds(2);

    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan PerSandboxDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// A deleted account CSP still lists this long after its delete was not deleted after all: sync sends it back to
    /// pending_deletion (SPEC 12). Until then a listing is CSP's lag, not a failure.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan VerifyWithin { get; set; } = TimeSpan.FromMinutes(30);
}

public sealed class ExpiryJobOptions
{
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);
}

public sealed class StalePurgeJobOptions
{
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How long a sandbox stays stale before it becomes a tombstone.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromHours(24);
}

public sealed class InvariantsJobOptions
{
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);
}

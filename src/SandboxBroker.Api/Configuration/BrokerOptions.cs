using System.ComponentModel.DataAnnotations;
using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Configuration;

/// <summary>Section "Broker".</summary>
public sealed class BrokerOptions
{
    public const string SectionName = "Broker";
    public const string DevelopmentTrackToken = "dev-track-token";
    public const string DevelopmentAdminToken = "dev-admin-token";

    [Required, RegularExpression("^(/[A-Za-z0-9._~-]+)+$", ErrorMessage = "Broker:BasePath must look like /v1")]
    public string BasePath { get; set; } = "/v1";

    public List<string> TrackTokens { get; set; } = [];
    public List<string> AdminTokens { get; set; } = [];

    /// <summary>Structured, named tokens (SPEC 11.3), beside the list form (named track-1..., admin-1...).</summary>
    public Dictionary<string, TokenOptions> Tokens { get; set; } = new(StringComparer.Ordinal);

    /// <summary>New allocations (not replays) a minute per token name, unless the token sets its own.</summary>
    [Range(1, 1_000_000)]
    public int DefaultAllocationsPerMinute { get; set; } = 600;

    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan LabDuration { get; set; } = TimeSpan.FromHours(Sandbox.DefaultLabDurationHours);

    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00")]
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromMinutes(30);

    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan TombstoneRetention { get; set; } = TimeSpan.FromDays(90);

    [Range(1, 100)]
    public int CandidateCount { get; set; } = 15;

    [Range(typeof(TimeSpan), "00:00:00.100", "00:00:29")]
    public TimeSpan AllocationBudget { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// False: maintenance (e.g. after restoring the table from a backup, until it is reconciled). New allocations
    /// answer 503 MAINTENANCE with Retry-After; replays, reads, releases, jobs and the admin API keep working.
    /// </summary>
    public bool AllocationEnabled { get; set; } = true;
    /// <summary>What an extension without a body adds to a lease (POST /sandboxes/{id}/extend).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan ExtendStep { get; set; } = TimeSpan.FromHours(1);

    /// <summary>No extension takes a lease past allocated_at + this; never below <see cref="LabDuration"/>.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan MaxLeaseDuration { get; set; } = TimeSpan.FromHours(72);

    /// <summary>The lease cap in force: <see cref="MaxLeaseDuration"/>, raised to <see cref="LabDuration"/> when below it.</summary>
    public TimeSpan EffectiveMaxLease => MaxLeaseDuration < LabDuration ? LabDuration : MaxLeaseDuration;

    /// <summary>Shared key that signs list cursors; empty means structural validation only.</summary>
    public string CursorKey { get; set; } = "";
}

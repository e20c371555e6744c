using System.ComponentModel.DataAnnotations;

namespace SandboxBroker.Api.Observability;

/// <summary>Section "Metrics".</summary>
public sealed class MetricsOptions
{
    public const string SectionName = "Metrics";

    /// <summary>How often the pool gauges are read from the store's counts (they may lag at most 5 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:00:05")]
    public TimeSpan PoolRefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Name prefixes (sub-pools) that get their own allocation-rate and exhaustion gauges besides pool="all"; the only
    /// values the pool label takes, so its series stay a small configured set.
    /// </summary>
    [MaxLength(20)]
    public List<string> Pools { get; set; } = [];
}

using System.ComponentModel.DataAnnotations;

namespace SandboxBroker.Api.Observability;

/// <summary>Section "Metrics".</summary>
public sealed class MetricsOptions
{
    public const string SectionName = "Metrics";

    /// <summary>How often the pool gauges are read from the store's counts (they may lag at most 5 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:00:05")]
    public TimeSpan PoolRefreshInterval { get; set; } = TimeSpan.FromSeconds(2);
}

using System.ComponentModel.DataAnnotations;

namespace SandboxBroker.Api.Csp;

/// <summary>Section "Csp".</summary>
public sealed class CspOptions
{
    public const string SectionName = "Csp";
    public const string LiveMode = "Live";
    public const string SimulatedMode = "Simulated";

    /// <summary>Live or Simulated; when empty it is derived (see <see cref="CspModeSelection"/>).</summary>
    public string? Mode { get; set; }

    [Required, Url]
    public string BaseUrl { get; set; } = "https://csp.infoblox.com/v2";

    public string Token { get; set; } = "";

    /// <summary>Production accepts an http BaseUrl only on loopback, unless this is true (a stand-in such as compose's).</summary>
    public bool AllowHttp { get; set; }

    /// <summary>The most bytes of one CSP answer the broker reads (after decompression); more is a counted failure.</summary>
    [Range(1_048_576, 1_073_741_824)]
    public long MaxResponseBytes { get; set; } = 64 * 1_048_576;

    /// <summary>Relative to BaseUrl; {uuid} is the last segment of external_id.</summary>
    [Required]
    public string DeletePathTemplate { get; set; } = "sandbox/accounts/{uuid}";

    [Required]
    public string ListPath { get; set; } = "current_user/accounts";

    /// <summary>Rows asked for per page of the account list (`_limit`); the list is read to its last page.</summary>
    [Range(1, 100_000)]
    public int ListPageSize { get; set; } = 1000;

    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    public SimulatedCspOptions Simulated { get; set; } = new();

    public CircuitBreakerOptions CircuitBreaker { get; set; } = new();
}

public sealed class SimulatedCspOptions
{
    [Range(0, 100_000)]
    public int PoolSize { get; set; } = 50;

    [Required, RegularExpression("^[A-Za-z0-9._-]{1,48}$")]
    public string NamePrefix { get; set; } = "sim-sandbox";
}

public sealed class CircuitBreakerOptions
{
    [Range(2, 1000)]
    public int MinimumThroughput { get; set; } = 5;

    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromMinutes(1);

    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromMinutes(1);
}

using System.Collections;
using System.Globalization;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Memory;

namespace SandboxBroker.Api.Configuration;

/// <summary>
/// The original broker's environment names, translated into canonical keys with their units
/// (a bare 48 bound to a TimeSpan would mean 48 days). The source sits just below the environment-variable
/// source, so canonical keys from the environment or the command line win over aliases, and aliases win over
/// appsettings files.
/// </summary>
public static class LegacyEnvironmentAliases
{
    private static readonly (string Alias, string Key, Func<string, string?> Convert)[] Map =
    [
        ("BROKER_API_TOKEN", "Broker:TrackTokens:90", AsIs),
        ("BROKER_ADMIN_TOKEN", "Broker:AdminTokens:90", AsIs),
        ("API_BASE_PATH", "Broker:BasePath", AsIs),
        ("DDB_TABLE_NAME", "Storage:DynamoDb:TableName", AsIs),
        ("DDB_ENDPOINT_URL", "Storage:DynamoDb:ServiceUrl", AsIs),
        ("AWS_REGION", "Storage:DynamoDb:Region", AsIs),
        ("LAB_DURATION_HOURS", "Broker:LabDuration", v => Duration(v, TimeSpan.FromHours)),
        ("GRACE_PERIOD_MINUTES", "Broker:GracePeriod", v => Duration(v, TimeSpan.FromMinutes)),
        ("SYNC_INTERVAL_SEC", "Jobs:Sync:Interval", v => Duration(v, TimeSpan.FromSeconds)),
        ("CLEANUP_INTERVAL_SEC", "Jobs:Cleanup:Interval", v => Duration(v, TimeSpan.FromSeconds)),
        ("AUTO_EXPIRY_INTERVAL_SEC", "Jobs:Expiry:Interval", v => Duration(v, TimeSpan.FromSeconds)),
        ("CLEANUP_BATCH_SIZE", "Jobs:Cleanup:BatchSize", Count),
        ("CLEANUP_BATCH_DELAY_SEC", "Jobs:Cleanup:BatchDelay", v => Duration(v, TimeSpan.FromSeconds)),
        ("CLEANUP_PER_SANDBOX_DELAY_SEC", "Jobs:Cleanup:PerSandboxDelay", v => Duration(v, TimeSpan.FromSeconds)),
        ("CSP_BASE_URL", "Csp:BaseUrl", AsIs),
        ("CSP_API_TOKEN", "Csp:Token", AsIs),
        ("CSP_TIMEOUT_CONNECT_SEC", "Csp:ConnectTimeout", v => Duration(v, TimeSpan.FromSeconds)),
        ("CSP_TIMEOUT_READ_SEC", "Csp:RequestTimeout", v => Duration(v, TimeSpan.FromSeconds)),
        ("K_CANDIDATES", "Broker:CandidateCount", Count),
        ("CIRCUIT_BREAKER_THRESHOLD", "Csp:CircuitBreaker:MinimumThroughput", Count),
        ("CIRCUIT_BREAKER_TIMEOUT_SEC", "Csp:CircuitBreaker:BreakDuration", v => Duration(v, TimeSpan.FromSeconds)),
        ("LOG_LEVEL", "Logging:MinimumLevel", LogLevel),
        ("NIOSXAAS_ENABLED", "NiosXaas:Enabled", Flag),
        ("NIOSXAAS_BASE_URL", "NiosXaas:BaseUrl", AsIs),
        ("NIOSXAAS_EMAIL", "NiosXaas:Email", AsIs),
        ("NIOSXAAS_PASSWORD", "NiosXaas:Password", AsIs),
        ("NIOSXAAS_SERVICE_NAME", "NiosXaas:ServiceName", AsIs),
        ("NIOSXAAS_TIMEOUT_SEC", "NiosXaas:Timeout", v => Duration(v, TimeSpan.FromSeconds)),
        ("NIOSXAAS_SHADOW_MODE", "NiosXaas:ShadowMode", Flag),
    ];

    /// <summary>Translates the aliases found in <paramref name="environment"/> into canonical key/value pairs.</summary>
    public static Dictionary<string, string?> Translate(IDictionary environment)
    {
        var result = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (alias, key, convert) in Map)
        {
            if (environment[alias] is string raw && !string.IsNullOrWhiteSpace(raw))
            {
                // An unconvertible value is passed through unchanged, so options validation names the key.
                result[key] = convert(raw.Trim()) ?? raw;
            }
        }

        if (environment["CORS_ALLOWED_ORIGINS"] is string origins && !string.IsNullOrWhiteSpace(origins))
        {
            var list = origins.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            for (var i = 0; i < list.Length; i++)
            {
                result[$"Cors:AllowedOrigins:{i}"] = list[i];
            }
        }

        return result;
    }

    /// <summary>Adds the alias source just below the process environment source.</summary>
    public static IConfigurationManager AddLegacyEnvironmentAliases(this IConfigurationManager configuration, IDictionary? environment = null)
    {
        var values = Translate(environment ?? Environment.GetEnvironmentVariables());
        var source = new MemoryConfigurationSource { InitialData = values };
        var sources = configuration.Sources;
        var index = -1;
        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] is EnvironmentVariablesConfigurationSource { Prefix: null or "" })
            {
                index = i;
                break;
            }
        }

        if (index < 0)
        {
            sources.Add(source);
        }
        else
        {
            sources.Insert(index, source);
        }

        return configuration;
    }

    private static string? AsIs(string value) => value;

    /// <summary>pydantic's booleans: true/false, 1/0, yes/no, on/off (any case).</summary>
    private static string? Flag(string value) => value.ToUpperInvariant() switch
    {
        "TRUE" or "1" or "YES" or "ON" or "Y" or "T" => "true",
        "FALSE" or "0" or "NO" or "OFF" or "N" or "F" => "false",
        _ => null,
    };

    private static string? Count(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0 && d == Math.Floor(d)
            ? ((long)d).ToString(CultureInfo.InvariantCulture)
            : null;

    private static string? Duration(string value, Func<double, TimeSpan> unit) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0 && d < 1e7
            ? unit(d).ToString("c", CultureInfo.InvariantCulture)
            : null;

    private static string? LogLevel(string value) => value.ToUpperInvariant() switch
    {
        "DEBUG" => "Debug",
        "INFO" or "INFORMATION" => "Information",
        "WARNING" or "WARN" => "Warning",
        "ERROR" => "Error",
        "CRITICAL" or "FATAL" => "Fatal",
        _ => null,
    };
}

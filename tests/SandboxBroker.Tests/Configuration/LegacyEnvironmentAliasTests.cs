using System.Collections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using SandboxBroker.Api.Configuration;
using SandboxBroker.Api.Csp;
using SandboxBroker.Api.NiosXaas;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Workers;

namespace SandboxBroker.Tests.Configuration;

/// <summary>One test per alias of the original's environment names, through the real binding (units matter: 48 hours is not 48 days).</summary>
public sealed class LegacyEnvironmentAliasTests
{
    private static ConfigurationManager Build(IDictionary environment, IDictionary<string, string?>? canonical = null)
    {
        var manager = new ConfigurationManager();
        manager.AddInMemoryCollection(new Dictionary<string, string?> { ["Broker:LabDuration"] = "04:00:00" });
        manager.Sources.Add(new EnvironmentVariablesConfigurationSource());
        if (canonical is not null)
        {
            manager.AddInMemoryCollection(canonical);
        }

        manager.AddLegacyEnvironmentAliases(environment);
        return manager;
    }

    private static T Bind<T>(IDictionary environment, string section) where T : new()
    {
        var options = new T();
        Build(environment).GetSection(section).Bind(options);
        return options;
    }

    [Fact]
    public void BROKER_API_TOKEN_and_BROKER_ADMIN_TOKEN_add_one_token_each()
    {
        var broker = Bind<BrokerOptions>(new Hashtable { ["BROKER_API_TOKEN"] = "t1", ["BROKER_ADMIN_TOKEN"] = "a1" }, "Broker");
        Assert.Equal(["t1"], broker.TrackTokens);
        Assert.Equal(["a1"], broker.AdminTokens);
    }

    [Fact]
    public void API_BASE_PATH_sets_the_base_path() =>
        Assert.Equal("/api/v2", Bind<BrokerOptions>(new Hashtable { ["API_BASE_PATH"] = "/api/v2" }, "Broker").BasePath);

    [Fact]
    public void DDB_names_and_AWS_REGION_set_the_DynamoDB_options()
    {
        var storage = Bind<StorageOptions>(new Hashtable
        {
            ["DDB_TABLE_NAME"] = "sandbox-broker-pool", ["DDB_ENDPOINT_URL"] = "http://127.0.0.1:8000", ["AWS_REGION"] = "eu-central-1",
        }, "Storage");
        Assert.Equal("sandbox-broker-pool", storage.DynamoDb.TableName);
        Assert.Equal("http://127.0.0.1:8000", storage.DynamoDb.ServiceUrl);
        Assert.Equal("eu-central-1", storage.DynamoDb.Region);
    }

    [Fact]
    public void LAB_DURATION_HOURS_is_hours_and_GRACE_PERIOD_MINUTES_is_minutes()
    {
        var broker = Bind<BrokerOptions>(new Hashtable { ["LAB_DURATION_HOURS"] = "48", ["GRACE_PERIOD_MINUTES"] = "7.5" }, "Broker");
        Assert.Equal(TimeSpan.FromHours(48), broker.LabDuration);
        Assert.Equal(TimeSpan.FromMinutes(7.5), broker.GracePeriod);
    }

    [Fact]
    public void Job_interval_aliases_are_seconds()
    {
        var jobs = Bind<JobsOptions>(new Hashtable
        {
            ["SYNC_INTERVAL_SEC"] = "600", ["CLEANUP_INTERVAL_SEC"] = "300", ["AUTO_EXPIRY_INTERVAL_SEC"] = "120",
        }, "Jobs");
        Assert.Equal(TimeSpan.FromSeconds(600), jobs.Sync.Interval);
        Assert.Equal(TimeSpan.FromSeconds(300), jobs.Cleanup.Interval);
        Assert.Equal(TimeSpan.FromSeconds(120), jobs.Expiry.Interval);
    }

    [Fact]
    public void Cleanup_batch_aliases_are_a_count_and_seconds()
    {
        var jobs = Bind<JobsOptions>(new Hashtable
        {
            ["CLEANUP_BATCH_SIZE"] = "10", ["CLEANUP_BATCH_DELAY_SEC"] = "30.0", ["CLEANUP_PER_SANDBOX_DELAY_SEC"] = "2.5",
        }, "Jobs");
        Assert.Equal(10, jobs.Cleanup.BatchSize);
        Assert.Equal(TimeSpan.FromSeconds(30), jobs.Cleanup.BatchDelay);
        Assert.Equal(TimeSpan.FromSeconds(2.5), jobs.Cleanup.PerSandboxDelay);
    }

    [Fact]
    public void CSP_aliases_set_url_token_and_timeouts_in_seconds()
    {
        var csp = Bind<CspOptions>(new Hashtable
        {
            ["CSP_BASE_URL"] = "http://127.0.0.1:9000/v2", ["CSP_API_TOKEN"] = "secret", ["CSP_TIMEOUT_CONNECT_SEC"] = "3",
            ["CSP_TIMEOUT_READ_SEC"] = "20", ["CIRCUIT_BREAKER_THRESHOLD"] = "7", ["CIRCUIT_BREAKER_TIMEOUT_SEC"] = "90",
        }, "Csp");
        Assert.Equal("http://127.0.0.1:9000/v2", csp.BaseUrl);
        Assert.Equal("secret", csp.Token);
        Assert.Equal(TimeSpan.FromSeconds(3), csp.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(20), csp.RequestTimeout);
        Assert.Equal(7, csp.CircuitBreaker.MinimumThroughput);
        Assert.Equal(TimeSpan.FromSeconds(90), csp.CircuitBreaker.BreakDuration);
    }

    [Fact]
    public void K_CANDIDATES_sets_the_candidate_count() =>
        Assert.Equal(25, Bind<BrokerOptions>(new Hashtable { ["K_CANDIDATES"] = "25" }, "Broker").CandidateCount);

    [Fact]
    public void CORS_ALLOWED_ORIGINS_is_a_comma_separated_list()
    {
        var origins = Build(new Hashtable { ["CORS_ALLOWED_ORIGINS"] = "https://a.example, https://b.example" })
            .GetSection("Cors:AllowedOrigins").Get<string[]>();
        Assert.Equal(["https://a.example", "https://b.example"], origins!);
    }

    [Theory]
    [InlineData("DEBUG", "Debug")]
    [InlineData("INFO", "Information")]
    [InlineData("WARNING", "Warning")]
    [InlineData("ERROR", "Error")]
    public void LOG_LEVEL_maps_to_the_minimum_level(string alias, string level) =>
        Assert.Equal(level, Build(new Hashtable { ["LOG_LEVEL"] = alias })["Logging:MinimumLevel"]);

    [Fact]
    public void Canonical_keys_win_over_aliases_and_aliases_win_over_appsettings()
    {
        var configuration = Build(
            new Hashtable { ["LAB_DURATION_HOURS"] = "48", ["K_CANDIDATES"] = "30" },
            new Dictionary<string, string?> { ["Broker:CandidateCount"] = "12" });
        Assert.Equal("2.00:00:00", configuration["Broker:LabDuration"]);
        Assert.Equal("12", configuration["Broker:CandidateCount"]);
    }

    [Fact]
    public void An_unconvertible_alias_is_passed_through_so_validation_names_it() =>
        Assert.Equal("forty-eight", Build(new Hashtable { ["LAB_DURATION_HOURS"] = "forty-eight" })["Broker:LabDuration"]);

    [Fact]
    public void NIOSXAAS_names_set_the_niosxaas_options_with_seconds_and_pydantic_booleans()
    {
        var nx = Bind<NiosXaasOptions>(new Hashtable
        {
            ["NIOSXAAS_ENABLED"] = "True",
            ["NIOSXAAS_BASE_URL"] = "https://nx.example.com",
            ["NIOSXAAS_EMAIL"] = "ops@example.com",
            ["NIOSXAAS_PASSWORD"] = "s3cret",
            ["NIOSXAAS_SERVICE_NAME"] = "Other-Service",
            ["NIOSXAAS_TIMEOUT_SEC"] = "12.5",
            ["NIOSXAAS_SHADOW_MODE"] = "0",
        }, NiosXaasOptions.SectionName);
        Assert.Equal((true, "https://nx.example.com", "ops@example.com", "s3cret", "Other-Service", TimeSpan.FromSeconds(12.5), false),
            (nx.Enabled, nx.BaseUrl, nx.Email, nx.Password, nx.ServiceName, nx.Timeout, nx.ShadowMode));

        var defaults = Bind<NiosXaasOptions>(new Hashtable(), NiosXaasOptions.SectionName);
        Assert.Equal((false, true, "Instrqt-SaaS", false), (defaults.Enabled, defaults.ShadowMode, defaults.ServiceName, defaults.BlockDeletionOnFailure));
    }
}

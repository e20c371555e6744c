using System.Globalization;
using SandboxBroker.Api.Csp;
using SandboxBroker.Api.Storage;
using SandboxBroker.DeployTests.Infrastructure;

namespace SandboxBroker.DeployTests;

/// <summary>docker-compose.yml and the Prometheus configuration it mounts, checked against the code and each other.</summary>
public sealed class ComposeTests
{
    private static Dictionary<object, object?> Services => Yaml.Load("docker-compose.yml").Map("services");

    [Fact]
    public void Compose_runs_the_broker_image_on_dynamodb_local_with_a_csp_stand_in_and_prometheus()
    {
        var services = Services;
        var broker = services.Map("broker");
        var build = broker.Map("build");
        Assert.Equal(".", build.Text("context"));
        Assert.Equal("Dockerfile", build.Text("dockerfile"));
        Assert.Contains(broker.List("ports"), p => p!.ToString()!.EndsWith($":{Contract.ContainerPort}", StringComparison.Ordinal));

        var env = broker.Environment();
        Assert.Equal(StorageOptions.DynamoDbProvider, env[$"{StorageOptions.SectionName}__{nameof(StorageOptions.Provider)}"]);
        Assert.Equal("true", env[$"{StorageOptions.SectionName}__{nameof(StorageOptions.DynamoDb)}__{nameof(DynamoDbStorageOptions.CreateTable)}"]);
        Assert.Equal(CspOptions.LiveMode, env[$"{CspOptions.SectionName}__{nameof(CspOptions.Mode)}"]);

        // The broker reaches the other services by their compose names.
        var dynamodbUrl = new Uri(env[$"{StorageOptions.SectionName}__{nameof(StorageOptions.DynamoDb)}__{nameof(DynamoDbStorageOptions.ServiceUrl)}"]!);
        var dynamodb = services.Map(dynamodbUrl.Host);
        Assert.StartsWith("amazon/dynamodb-local:", dynamodb.Text("image"), StringComparison.Ordinal);
        Assert.Contains(dynamodb.List("ports"), p => p!.ToString()!.EndsWith($":{dynamodbUrl.Port}", StringComparison.Ordinal));

        var cspUrl = new Uri(env[$"{CspOptions.SectionName}__{nameof(CspOptions.BaseUrl)}"]!);
        var csp = services.Map(cspUrl.Host);
        Assert.Equal(cspUrl.Port.ToString(CultureInfo.InvariantCulture), csp.Environment()["CSP_STUB_PORT"]);
        Assert.Equal(env[$"{CspOptions.SectionName}__{nameof(CspOptions.Token)}"], csp.Environment()["CSP_STUB_TOKEN"]);
        Assert.True(File.Exists(Repo.PathOf("deploy", "csp-stub", "csp_stub.py")), "deploy/csp-stub/csp_stub.py is missing");

        Assert.StartsWith("prom/prometheus:", services.Map("prometheus").Text("image"), StringComparison.Ordinal);
        Assert.All(services, s => Assert.DoesNotContain(":latest", ((Dictionary<object, object?>)s.Value!).Text("image") ?? "", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_broker_setting_in_compose_is_a_configuration_key_of_the_code()
    {
        var env = Services.Map("broker").Environment();
        var names = env.Keys.Where(k => !k.StartsWith("AWS_", StringComparison.Ordinal)).ToList(); // SDK credentials for DynamoDB Local
        var problems = names.Select(ConfigurationKeys.Explain).OfType<string>().ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Prometheus_scrapes_the_broker_metrics_path_and_loads_the_alert_rules()
    {
        var prometheus = Services.Map("prometheus");
        var mounts = prometheus.List("volumes").Select(v => v!.ToString()!.Split(':')).ToDictionary(p => p[1], p => p[0], StringComparer.Ordinal);
        var configMount = Assert.Single(mounts, m => m.Key.EndsWith("prometheus.yml", StringComparison.Ordinal));
        Assert.Contains(prometheus.List("command"), c => c!.ToString() == $"--config.file={configMount.Key}");

        var config = Yaml.Load(configMount.Value.TrimStart('.', '/').Split('/'));
        foreach (var rules in config.List("rule_files").Select(r => r!.ToString()!))
        {
            Assert.True(mounts.TryGetValue(rules, out var source), $"rule file {rules} is not mounted into the container");
            Assert.True(File.Exists(Repo.PathOf(source.TrimStart('.', '/').Split('/'))), $"{source} is missing");
        }

        var job = Assert.Single(config.List("scrape_configs").Cast<Dictionary<object, object?>>(), j => j.Text("job_name") == "sandbox-broker");
        Assert.Equal(Contract.MetricsPath, job.Text("metrics_path"));
        Assert.Null(job.Text("honor_labels"));   // the broker never exposes a job or instance label, so none is needed
        var target = Assert.Single(job.List("static_configs").Cast<Dictionary<object, object?>>().SelectMany(s => s.List("targets")))!.ToString();
        Assert.Equal($"broker:{Contract.ContainerPort}", target);
    }
}

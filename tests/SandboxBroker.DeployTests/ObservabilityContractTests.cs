using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SandboxBroker.DeployTests.Infrastructure;
using Xunit.Abstractions;

namespace SandboxBroker.DeployTests;

/// <summary>
/// What the deployment files expect of the running broker, checked against the broker itself: probe and metrics
/// paths, every metric and label that the Prometheus rules and the CloudWatch alarms use, the job names of the
/// staleness alarms, the metrics sidecar's selection, and every runbook link.
/// </summary>
public sealed partial class ObservabilityContractTests(BrokerApp app, ITestOutputHelper output) : IClassFixture<BrokerApp>
{
    private static readonly string[] ExposedPrefixes = ["broker_", "http_"];

    [Fact]
    public async Task Probe_and_metrics_paths_of_the_deployment_files_are_served_by_the_broker()
    {
        using var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri(Contract.LivenessPath, UriKind.Relative))).StatusCode);
        var ready = await client.GetAsync(new Uri(Contract.ReadinessPath, UriKind.Relative));
        Assert.True(ready.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{Contract.ReadinessPath}: {ready.StatusCode}");
        var metrics = await client.GetAsync(new Uri(Contract.MetricsPath, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.StartsWith("text/plain", metrics.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);

        var model = await TerraformModel.Instance;
        Assert.Equal(Contract.LivenessPath, model.Resolve(model.Local("health_check_path")));
    }

    [Fact]
    public async Task Alert_rules_use_only_metrics_labels_and_values_the_broker_exposes()
    {
        var samples = await ScrapeAsync();
        var problems = new List<string>();
        foreach (var (name, expr) in AlertRules())
        {
            foreach (Match m in MetricName().Matches(expr))
            {
                if (!samples.ContainsKey(m.Value))
                {
                    problems.Add($"{name}: the broker exposes no {m.Value}");
                }
            }

            foreach (Match selector in Selector().Matches(expr))
            {
                var metric = selector.Groups["metric"].Value;
                if (!samples.TryGetValue(metric, out var series))
                {
                    continue; // reported above
                }

                foreach (Match matcher in Matcher().Matches(selector.Groups["matchers"].Value))
                {
                    var (label, op, value) = (matcher.Groups["label"].Value, matcher.Groups["op"].Value, matcher.Groups["value"].Value);
                    var values = series.Where(s => s.ContainsKey(label)).Select(s => s[label]).ToHashSet(StringComparer.Ordinal);
                    if (values.Count == 0)
                    {
                        problems.Add($"{name}: {metric} has no label {label}");
                    }
                    else if (op == "=" && !values.Contains(value))
                    {
                        problems.Add($"{name}: {metric}{{{label}=\"{value}\"}} does not exist (values: {string.Join(", ", values)})");
                    }
                    else if (op == "=~" && LiteralAlternatives().IsMatch(value))
                    {
                        problems.AddRange(value.Split('|').Where(v => !values.Contains(v)).Select(v => $"{name}: {metric}{{{label}=\"{v}\"}} does not exist"));
                    }
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task Cloudwatch_alarms_use_metrics_the_broker_exposes_and_the_sidecar_ships()
    {
        var samples = await ScrapeAsync();
        var model = await TerraformModel.Instance;
        var namespaceName = model.Resolve(model.Local("metrics_namespace"));
        var declarations = SidecarDeclarations();

        var alarms = model.ResourcesOfType("aws_cloudwatch_metric_alarm").ToList();
        var brokerMetrics = new List<(string Alarm, string Metric, IReadOnlyList<string> Dimensions)>();
        foreach (var (key, alarm) in alarms)
        {
            var metrics = new List<JsonObject> { alarm };
            metrics.AddRange(TerraformModel.Blocks(alarm, "metric_query").SelectMany(q => TerraformModel.Blocks(q, "metric")));
            foreach (var metric in metrics.Where(m => m["metric_name"] is not null && m["namespace"]?.GetValue<string>() == "${local.metrics_namespace}"))
            {
                var dimensions = Assert.IsType<JsonObject>(metric["dimensions"]).Select(d => d.Key).Order(StringComparer.Ordinal).ToList();
                brokerMetrics.Add((key, metric["metric_name"]!.GetValue<string>(), dimensions));
            }
        }

        Assert.NotNull(namespaceName);
        var names = brokerMetrics.Select(b => b.Metric).ToHashSet(StringComparer.Ordinal);
        foreach (var required in new[] { "broker_pool_available", "broker_pool_deletion_failed", "broker_csp_circuit_state", "broker_job_last_success_timestamp_seconds" })
        {
            Assert.Contains(required, names);
        }

        foreach (var (alarm, metric, dimensions) in brokerMetrics)
        {
            output.WriteLine($"{alarm}: {metric} [{string.Join(", ", dimensions)}]");
            Assert.True(samples.ContainsKey(metric), $"{alarm}: the broker exposes no {metric}");
            var declaration = declarations.FirstOrDefault(d => d.Selectors.Any(s => s.IsMatch(metric)));
            Assert.True(declaration.Selectors is not null, $"{alarm}: the metrics sidecar (infra/otel-collector.yaml) does not ship {metric}");
            Assert.Equal(declaration.Dimensions, dimensions);
        }

        // The ALB alarms: 5xx rate and p99 latency.
        var albMetrics = alarms.SelectMany(a => new[] { a.Value }.Concat(TerraformModel.Blocks(a.Value, "metric_query").SelectMany(q => TerraformModel.Blocks(q, "metric"))))
            .Where(m => m["namespace"]?.GetValue<string>() == "AWS/ApplicationELB").Select(m => m["metric_name"]!.GetValue<string>()).ToList();
        Assert.Contains("HTTPCode_Target_5XX_Count", albMetrics);
        Assert.Contains("TargetResponseTime", albMetrics);
        Assert.Contains(alarms, a => a.Value["extended_statistic"]?.GetValue<string>() == "p99");
    }

    [Fact]
    public async Task No_metric_uses_a_label_that_collides_with_the_scrape_target_labels()
    {
        // Prometheus puts job and instance on every scraped series; a metric label of the same name is renamed
        // (exported_job) unless the scrape config sets honor_labels, which no default scrape config does.
        var samples = await ScrapeAsync();
        var colliding = samples.SelectMany(family => family.Value.SelectMany(labels => labels.Keys)
                .Where(label => label is "job" or "instance").Select(label => $"{family.Key}{{{label}}}"))
            .Distinct(StringComparer.Ordinal).ToList();
        Assert.True(colliding.Count == 0, "metrics with a job or instance label: " + string.Join(", ", colliding));
        Assert.Contains(samples["broker_job_last_success_timestamp_seconds"], labels => labels.ContainsKey("job_name"));
    }

    [Fact]
    public async Task Job_staleness_alarms_cover_exactly_the_jobs_the_broker_reports()
    {
        var samples = await ScrapeAsync();
        var jobs = samples["broker_job_last_success_timestamp_seconds"].Select(s => s["job_name"]).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(jobs);

        var model = await TerraformModel.Instance;
        var configured = Assert.IsType<JsonObject>(model.Variables["job_max_age_seconds"]["default"]).Select(j => j.Key).Order(StringComparer.Ordinal);
        Assert.Equal(jobs, configured);
        Assert.Equal("${var.job_max_age_seconds}", model.Resource("aws_cloudwatch_metric_alarm", "job_stale")["for_each"]!.GetValue<string>());
    }

    [Fact]
    public async Task Traces_reach_x_ray_the_task_exports_to_the_sidecar_receiver_and_the_task_role_may_put_segments()
    {
        var config = Yaml.Load("infra", "otel-collector.yaml");
        var traces = config.Map("service").Map("pipelines").Map("traces");
        Assert.Equal(["otlp"], traces.List("receivers").Select(r => r!.ToString()));
        Assert.Equal(["awsxray"], traces.List("exporters").Select(e => e!.ToString()));
        var grpc = config.Map("receivers").Map("otlp").Map("protocols").Map("grpc").Text("endpoint");
        Assert.Equal("127.0.0.1:4317", grpc);

        var model = await TerraformModel.Instance;
        var endpoint = model.Resolve(TaskDefinition.Of(model).Environment["Telemetry__OtlpEndpoint"]);
        Assert.NotNull(endpoint);
        Assert.Equal(4317, new Uri(endpoint).Port);
        Assert.True(new Uri(endpoint).IsLoopback, $"the broker exports traces to {endpoint}, not to the sidecar in its own task");

        // Without these two actions the exporter's calls are refused and the traces are lost silently.
        var granted = TerraformModel.Blocks(model.DataSource("aws_iam_policy_document", "task"), "statement")
            .SelectMany(s => s["actions"]!.AsArray().Select(a => a!.GetValue<string>()))
            .Where(a => a.StartsWith("xray:", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        Assert.Equal(["xray:PutTelemetryRecords", "xray:PutTraceSegments"], granted);
    }

    [Fact]
    public async Task Every_runbook_link_points_at_a_section_of_the_runbooks()
    {
        var anchors = Runbooks.Anchors();
        foreach (var section in new[] { "pool-exhaustion-during-an-event", "csp-outage", "deletion-failures", "token-rotation-without-downtime", "restoring-the-table-from-pitr", "scaling-out" })
        {
            Assert.Contains(section, anchors);
        }

        var links = new List<(string Where, string Anchor)>();
        foreach (var rule in Yaml.Load("deploy", "prometheus", "alerts.yml").List("groups").Cast<Dictionary<object, object?>>().SelectMany(g => g.List("rules").Cast<Dictionary<object, object?>>()))
        {
            var url = rule.Map("annotations").Text("runbook_url");
            Assert.True(url is not null, $"{rule.Text("alert")} has no runbook_url");
            var link = Runbooks.PrometheusLink().Match(url);
            Assert.True(link.Success, $"{rule.Text("alert")}: runbook_url {url} is not {{{{ or $externalLabels.runbook_base \"<default>\" }}}}#<section>");
            links.Add((rule.Text("alert")!, link.Groups["anchor"].Value));
            Assert.Contains(rule.Map("labels").Text("severity"), new[] { "page", "warning" });
        }

        var model = await TerraformModel.Instance;
        Assert.Equal("${var.runbook_base_url}", model.Local("runbooks")!.GetValue<string>());
        foreach (var (key, alarm) in model.ResourcesOfType("aws_cloudwatch_metric_alarm"))
        {
            var description = alarm["alarm_description"]?.GetValue<string>() ?? "";
            var found = RunbookAnchor().Matches(description);
            Assert.True(found.Count > 0, $"{key}: the alarm description links no runbook section");
            links.AddRange(found.Select(m => (key, m.Groups[1].Value)));
        }

        Assert.True(links.Count > 0);
        var broken = links.Where(l => !anchors.Contains(l.Anchor)).Select(l => $"{l.Where} -> #{l.Anchor}").ToList();
        Assert.True(broken.Count == 0, "links to missing runbook sections: " + string.Join(", ", broken));
    }

    [Fact]
    public async Task Runbook_links_are_absolute_urls_from_one_configurable_base()
    {
        // One base, one default: Prometheus's external label, every rule's fallback, Terraform's variable.
        var model = await TerraformModel.Instance;
        var runbookBase = model.Resolve(model.Variables["runbook_base_url"]["default"]);
        Assert.NotNull(runbookBase);
        Assert.True(Uri.TryCreate(runbookBase, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps, $"{runbookBase} is not an absolute https URL");
        Assert.EndsWith("/" + Runbooks.File, runbookBase, StringComparison.Ordinal);

        var prometheus = Yaml.Load("deploy", "prometheus", "prometheus.yml").Map("global").Map("external_labels").Text("runbook_base");
        Assert.Equal(runbookBase, prometheus);
        var fallbacks = Yaml.Load("deploy", "prometheus", "alerts.yml").List("groups").Cast<Dictionary<object, object?>>()
            .SelectMany(g => g.List("rules").Cast<Dictionary<object, object?>>())
            .Select(r => Runbooks.PrometheusLink().Match(r.Map("annotations").Text("runbook_url") ?? "").Groups["default"].Value).ToList();
        Assert.NotEmpty(fallbacks);
        Assert.All(fallbacks, f => Assert.Equal(runbookBase, f));
        var tests = Yaml.Load("deploy", "prometheus", "alerts.test.yml");

        // The promtool tests expect the rendered, absolute link, so a template that stops rendering fails them.
        var expected = tests.List("tests").Cast<Dictionary<object, object?>>()
            .SelectMany(t => t.List("alert_rule_test").Cast<Dictionary<object, object?>>())
            .SelectMany(a => a.List("exp_alerts").Cast<Dictionary<object, object?>>())
            .Select(e => e.MapOrNull("exp_annotations")?.Text("runbook_url")).OfType<string>().ToList();
        Assert.NotEmpty(expected);
        Assert.All(expected, url => Assert.StartsWith(runbookBase + "#", url, StringComparison.Ordinal));
    }

    private async Task<Dictionary<string, List<IReadOnlyDictionary<string, string>>>> ScrapeAsync()
    {
        using var client = app.CreateClient();
        // HTTP request metrics appear once a request was served.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri(Contract.LivenessPath, UriKind.Relative))).StatusCode);
        var text = await client.GetStringAsync(new Uri(Contract.MetricsPath, UriKind.Relative));
        var samples = PrometheusText.Parse(text).SeriesByName();
        Assert.Contains(samples.Keys, k => ExposedPrefixes.Any(p => k.StartsWith(p, StringComparison.Ordinal)));
        return samples;
    }

    private static IEnumerable<(string Alert, string Expr)> AlertRules() =>
        Yaml.Load("deploy", "prometheus", "alerts.yml").List("groups").Cast<Dictionary<object, object?>>()
            .SelectMany(g => g.List("rules").Cast<Dictionary<object, object?>>())
            .Select(r => (r.Text("alert") ?? "?", r.Text("expr") ?? ""));

    /// <summary>metric_declarations of the sidecar's awsemf exporter: selectors ($$ is the collector's escaped $) and dimensions.</summary>
    private static List<(List<Regex> Selectors, List<string> Dimensions)> SidecarDeclarations()
    {
        var config = Yaml.Load("infra", "otel-collector.yaml");
        var emf = config.Map("exporters").Map("awsemf");
        Assert.Equal("${namespace}", emf.Text("namespace"));
        return emf.List("metric_declarations").Cast<Dictionary<object, object?>>().Select(d =>
        {
            var dimensions = Assert.Single(d.List("dimensions").Cast<List<object?>>()).Select(x => x!.ToString()!).Order(StringComparer.Ordinal).ToList();
            var selectors = d.List("metric_name_selectors").Select(s => new Regex(s!.ToString()!.Replace("$$", "$", StringComparison.Ordinal))).ToList();
            return (selectors, dimensions);
        }).ToList();
    }

    [GeneratedRegex(@"\b(?:broker|http)_[a-z0-9_]+\b")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"(?<metric>\b(?:broker|http)_[a-z0-9_]+)\{(?<matchers>[^}]*)\}")]
    private static partial Regex Selector();

    [GeneratedRegex(@"(?<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*(?<op>=~|!~|!=|=)\s*""(?<value>[^""]*)""")]
    private static partial Regex Matcher();

    [GeneratedRegex(@"^[a-z0-9_]+(\|[a-z0-9_]+)*$")]
    private static partial Regex LiteralAlternatives();

    [GeneratedRegex(@"\$\{local\.runbooks\}#([a-z0-9-]+)")]
    private static partial Regex RunbookAnchor();
}

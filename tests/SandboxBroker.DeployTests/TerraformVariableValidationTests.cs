using SandboxBroker.DeployTests.Infrastructure;

namespace SandboxBroker.DeployTests;

/// <summary>
/// Issue 19 item 13: the variables where a typo breaks the service are validated by Terraform itself. The variables
/// alone need no provider, so `terraform plan` evaluates the validations offline in a scratch directory: both example
/// tfvars pass, and each broken value fails with its own message.
/// </summary>
public sealed class TerraformVariableValidationTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);
    private readonly string directory = Path.Combine(Path.GetTempPath(), "sbx-tfvars", Guid.NewGuid().ToString("N"));

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(directory);
        File.Copy(Repo.PathOf("infra", "variables.tf"), Path.Combine(directory, "variables.tf"));
        foreach (var example in Directory.EnumerateFiles(Repo.PathOf("infra", "environments"), "*.example.tfvars"))
        {
            File.Copy(example, Path.Combine(directory, Path.GetFileName(example)));
        }

        var init = await TerraformAsync("init", "-input=false", "-no-color");
        Assert.True(init.ExitCode == 0, init.Describe("terraform init"));
    }

    public Task DisposeAsync()
    {
        Directory.Delete(directory, recursive: true);
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("dev.example.tfvars")]
    [InlineData("prod.example.tfvars")]
    public async Task The_example_variables_pass_every_validation(string tfvars)
    {
        var plan = await PlanAsync(tfvars);

        Assert.True(plan.ExitCode == 0, plan.Describe($"terraform plan -var-file={tfvars}"));
    }

    [Theory]
    [InlineData("lab_duration=4h", "lab_duration must be a TimeSpan")]
    [InlineData("grace_period=30m", "grace_period must be a TimeSpan")]
    [InlineData("cleanup_batch_delay=00:00:90", "cleanup_batch_delay must be a TimeSpan")]
    [InlineData("task_cpu=300", "task_cpu must be a Fargate CPU value")]
    [InlineData("task_memory=3000", "task_memory is not a Fargate memory size")]
    [InlineData("max_capacity=1", "max_capacity must be at least min_capacity")]
    [InlineData("log_retention_days=10", "log_retention_days must be a CloudWatch Logs retention value")]
    [InlineData("edge_log_retention_days=45", "edge_log_retention_days must be a CloudWatch Logs retention value")]
    [InlineData("vpc_cidr=10.40.0.0/33", "vpc_cidr must be an IPv4 CIDR")]
    [InlineData("vpc_cidr=10.40.0.0/24", "vpc_cidr must be an IPv4 CIDR")]
    [InlineData("cleanup_batch_size=0", "cleanup_batch_size must be 1-100")]
    public async Task A_value_that_would_break_the_service_is_refused_with_its_message(string assignment, string message)
    {
        var plan = await PlanAsync("dev.example.tfvars", "-var", assignment);

        Assert.NotEqual(0, plan.ExitCode);
        var output = string.Join(' ', (plan.StandardOutput + plan.StandardError).Split((char[])['\n', '\r', ' ', '│'], StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_scrape_cidr_that_is_not_a_cidr_is_refused()
    {
        var plan = await PlanAsync("dev.example.tfvars", "-var", "metrics_scrape_cidrs=[\"10.40.10.0\"]");

        Assert.NotEqual(0, plan.ExitCode);
        Assert.Contains("metrics_scrape_cidrs must hold IPv4 CIDRs", plan.StandardOutput + plan.StandardError, StringComparison.Ordinal);
    }

    private Task<ProcessResult> PlanAsync(string tfvars, params string[] extra) =>
        TerraformAsync(["plan", "-input=false", "-no-color", "-lock=false", $"-var-file={tfvars}", .. extra]);

    private Task<ProcessResult> TerraformAsync(params string[] arguments) =>
        ProcessRunner.RunAsync("terraform", arguments, directory, Deadline, new Dictionary<string, string?>
        {
            ["TF_IN_AUTOMATION"] = "1",
            ["CHECKPOINT_DISABLE"] = "1", // no version check over the network
            ["TF_CLI_CONFIG_FILE"] = "/dev/null",
        });
}

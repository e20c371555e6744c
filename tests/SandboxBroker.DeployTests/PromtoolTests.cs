using SandboxBroker.DeployTests.Infrastructure;

namespace SandboxBroker.DeployTests;

/// <summary>
/// The Prometheus files checked by Prometheus's own tool, here as well as in GitHub CI: the rules load, the rule unit
/// tests (alerts.test.yml) pass, and the compose scrape config is valid. scripts/test.sh installs promtool (Debian's
/// prometheus package) when it is missing; a machine without it fails these tests rather than skipping them.
/// </summary>
public sealed class PromtoolTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);

    [Theory]
    [InlineData("check rules alerts.yml")]
    [InlineData("test rules alerts.test.yml")]
    [InlineData("check config --syntax-only prometheus.yml")]
    public async Task Promtool_accepts_the_prometheus_files(string command)
    {
        var promtool = Promtool();
        var arguments = command.Split(' ');
        var result = await ProcessRunner.RunAsync(promtool, arguments, Repo.PathOf("deploy", "prometheus"), Deadline);
        Assert.True(result.ExitCode == 0, result.Describe($"promtool {string.Join(' ', arguments)}"));
        Assert.Contains("SUCCESS", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    private static string Promtool()
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, "promtool")).FirstOrDefault(File.Exists);
        Assert.True(found is not null, "promtool is not installed: run scripts/test.sh (it installs Debian's prometheus package) or apt-get install prometheus");
        return found!;
    }
}

using System.Diagnostics;
using SandboxBroker.Cli.Tests.Infrastructure;

namespace SandboxBroker.Cli.Tests;

/// <summary>
/// The packed tool installs with `dotnet tool install --add-source` from the repository's own package output and runs.
/// scripts/test.sh packs it to artifacts/packages first; run alone, this test packs it itself.
/// </summary>
[Collection(BrokersCollection.Name)]
public sealed class ToolInstallTests(Brokers brokers)
{
    [Fact]
    public async Task The_packed_tool_installs_from_the_package_output_and_answers_help_and_stats()
    {
        var packages = await PackageOutputAsync();
        var toolPath = Directory.CreateTempSubdirectory("sbx-tool").FullName;
        var nugetCache = Directory.CreateTempSubdirectory("sbx-tool-nuget").FullName; // never an older package of the same version
        try
        {
            var install = await RunAsync("dotnet", ["tool", "install", "SandboxBroker.Cli", "--tool-path", toolPath, "--add-source", packages],
                new() { ["NUGET_PACKAGES"] = nugetCache });
            Assert.True(install.ExitCode == 0, install.ToString());

            var tool = Path.Combine(toolPath, "sandbox-broker");
            using var help = CliRun.StartFile(tool, ["--help"], null, null);
            var helpResult = await help.WaitAsync(TimeSpan.FromMinutes(1));
            using var stats = CliRun.StartFile(tool, ["stats"], brokers.Sqlite.BaseAddress, Brokers.AdminToken);
            var statsResult = await stats.WaitAsync(TimeSpan.FromMinutes(1));

            Assert.True(helpResult.ExitCode == 0, helpResult.ToString());
            Assert.Contains("register", helpResult.Stdout);
            Assert.True(statsResult.ExitCode == 0, statsResult.ToString());
            Assert.Matches(@"(?m)^available\s+\d+", statsResult.Stdout);
        }
        finally
        {
            Directory.Delete(toolPath, recursive: true);
            Directory.Delete(nugetCache, recursive: true);
        }
    }

    /// <summary>artifacts/packages of the repository when scripts/test.sh packed it, else a fresh pack into a temp folder.</summary>
    private static async Task<string> PackageOutputAsync()
    {
        var root = RepositoryRoot();
        var artifacts = Path.Combine(root, "artifacts", "packages");
        if (Directory.Exists(artifacts) && Directory.EnumerateFiles(artifacts, "SandboxBroker.Cli.*.nupkg").Any())
        {
            return artifacts;
        }

        var output = Directory.CreateTempSubdirectory("sbx-pack").FullName;
        var pack = await RunAsync("dotnet", ["pack", Path.Combine(root, "src", "SandboxBroker.Cli"), "-c", "Release", "-o", output], []);
        Assert.True(pack.ExitCode == 0, pack.ToString());
        return output;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SandboxBroker.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("no SandboxBroker.sln above " + AppContext.BaseDirectory);
    }

    private static async Task<CliResult> RunAsync(string file, string[] args, Dictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}

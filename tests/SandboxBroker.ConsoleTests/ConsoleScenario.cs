using System.Diagnostics;
using System.Text.Json;

namespace SandboxBroker.ConsoleTests;

/// <summary>
/// Runs browser/console-scenario.mjs for one scenario with node and the system chromium, and returns what it reported.
/// Screenshots go to &lt;repo&gt;/TestResults/console-screenshots (kept next to the TRX files).
/// </summary>
internal static class ConsoleScenario
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string ScreenshotFolder { get; } = Path.Combine(RepositoryRoot, "TestResults", "console-screenshots");

    /// <summary>Runs the scenario and asserts it found nothing wrong and wrote its screenshots.</summary>
    public static async Task PassesAsync(string scenario, BrokerProcess broker, int screenshots)
    {
        var report = await RunAsync(scenario, broker);

        Assert.True(report.Failures.Count == 0, "failed checks:\n" + string.Join("\n", report.Failures));
        Assert.True(report.ConsoleErrors.Count == 0, "console errors:\n" + string.Join("\n", report.ConsoleErrors));
        Assert.True(report.ForeignRequests.Count == 0, "requests to other hosts:\n" + string.Join("\n", report.ForeignRequests));
        Assert.Equal(screenshots, report.Screenshots.Count);
        Assert.All(report.Screenshots, file => Assert.True(new FileInfo(file).Length > 1000, $"{file} is not a screenshot"));
        Assert.True(report.Ok && report.ExitCode == 0, $"scenario {scenario} exited {report.ExitCode}: {report.Stderr}");
    }

    public static async Task<ScenarioReport> RunAsync(string scenario, BrokerProcess broker)
    {
        var chromium = FindChromium();
        var tools = Path.Combine(RepositoryRoot, "tools");
        Assert.True(Directory.Exists(Path.Combine(tools, "node_modules", "playwright-core")),
            "playwright-core is not installed: run `npm ci --prefix tools` (scripts/test.sh does)");
        Directory.CreateDirectory(ScreenshotFolder);

        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "browser", "console-scenario.mjs"));
        info.ArgumentList.Add(scenario);
        info.Environment["BROKER_URL"] = broker.BaseAddress.ToString();
        info.Environment["ADMIN_TOKEN"] = ConsoleBroker.AdminToken;
        info.Environment["TRACK_TOKEN"] = ConsoleBroker.TrackToken;
        info.Environment["TOOLS_DIR"] = tools;
        info.Environment["CHROMIUM"] = chromium;
        info.Environment["SCREENSHOT_DIR"] = ScreenshotFolder;

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"scenario {scenario} ran longer than {Limit}");
        }

        var output = await stdout;
        var lastLine = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
        ScenarioReport? report = null;
        try
        {
            report = JsonSerializer.Deserialize<ScenarioReport>(lastLine);
        }
        catch (JsonException)
        {
        }

        Assert.True(report is not null, $"scenario {scenario} printed no report (exit {process.ExitCode}):\n{output}\n{await stderr}");
        return report! with { ExitCode = process.ExitCode, Stderr = await stderr };
    }

    /// <summary>Debian's chromium (scripts/test.sh installs it); CHROMIUM_PATH overrides.</summary>
    private static string FindChromium()
    {
        var candidates = new[] { Environment.GetEnvironmentVariable("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser" };
        var found = candidates.FirstOrDefault(c => !string.IsNullOrEmpty(c) && File.Exists(c));
        Assert.True(found is not null, "chromium is not installed: scripts/test.sh installs it (apt-get install -y chromium)");
        return found!;
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "tools", "package.json")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no tools/package.json above {AppContext.BaseDirectory}");
    }
}

/// <summary>What one scenario found: failed checks, console errors, requests to other hosts, screenshots written.</summary>
internal sealed record ScenarioReport
{
    [System.Text.Json.Serialization.JsonPropertyName("ok")]
    public bool Ok { get; init; }

    [System.Text.Json.Serialization.JsonPropertyName("failures")]
    public IReadOnlyList<string> Failures { get; init; } = [];

    [System.Text.Json.Serialization.JsonPropertyName("console_errors")]
    public IReadOnlyList<string> ConsoleErrors { get; init; } = [];

    [System.Text.Json.Serialization.JsonPropertyName("foreign_requests")]
    public IReadOnlyList<string> ForeignRequests { get; init; } = [];

    [System.Text.Json.Serialization.JsonPropertyName("screenshots")]
    public IReadOnlyList<string> Screenshots { get; init; } = [];

    public int ExitCode { get; init; }

    public string Stderr { get; init; } = "";
}

using Xunit.Abstractions;

namespace SandboxBroker.LoadTests;

/// <summary>
/// The harness in quick mode (a few tens of seconds: a small pool, SQLite then DynamoDB Local) as part of the normal
/// test run. It fails only on a correctness breach — double holder, lost sandbox, 5xx, spurious 409, invariant
/// violation, a request without its log line — never on timing; the numbers go to TestResults/bench-quick.md/json.
/// </summary>
public sealed class QuickModeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Quick_load_run_on_sqlite_and_dynamodb_local_breaks_no_allocation_invariant()
    {
        var results = Path.Combine(RepositoryRoot() ?? AppContext.BaseDirectory, "TestResults");
        var settings = BenchSettings.Quick with { OutputDirectory = results };
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(6));

        var report = await BenchRunner.RunAsync(settings, "quick mode (xunit: QuickModeTests)", line => output.WriteLine(line), limit.Token);

        output.WriteLine(report.Write(results, "bench-quick"));
        Assert.True(report.Breaches.Count == 0, "correctness breaches:\n" + string.Join('\n', report.Breaches));
        Assert.All(report.Runs, run => Assert.True(run.Burst is { Successes: > 0 }, $"{run.Store}: the burst allocated nothing"));
    }

    private static string? RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SandboxBroker.sln")))
            {
                return directory.FullName;
            }
        }

        return null;
    }
}

using System.Text.Json;
using SandboxBroker.Cli.Tests.Infrastructure;

namespace SandboxBroker.Cli.Tests;

/// <summary>
/// jobs run NAME --wait on a pass that outlives the broker's wait: the broker answers 202 with the run id and the CLI
/// follows the run record, with progress, until the pass ends.
/// </summary>
public sealed class JobFollowTests
{
    [Fact]
    public async Task Jobs_run_wait_follows_a_long_pass_through_its_run_record_to_the_end()
    {
        var directory = Directory.CreateTempSubdirectory("sbx-cli-follow").FullName;
        // A 1 s wait and a cleanup that spends 1 s per sandbox: three due deletions outlive the wait.
        await using var broker = await Brokers.StartAsync(new()
        {
            ["Storage__Sqlite__Path"] = Path.Combine(directory, "follow.db"),
            ["Jobs__AdminWait"] = "00:00:01",
            ["Jobs__RunProgressInterval"] = "00:00:00.5",
            ["Jobs__Cleanup__PerSandboxDelay"] = "00:00:01",
        });
        var prefix = SandboxFiles.Prefix("follow");
        var registered = await CliRun.RunAsync(broker.BaseAddress, Brokers.AdminToken, "register", "--csv", SandboxFiles.Csv(prefix, 3));
        Assert.True(registered.ExitCode == 0, registered.ToString());
        for (var i = 1; i <= 3; i++)
        {
            using var track = Brokers.TrackClient(broker, $"student-{i}");
            using var allocated = await track.PostAsync(new Uri("v1/allocate", UriKind.Relative), null);
            Assert.Equal(System.Net.HttpStatusCode.Created, allocated.StatusCode);
            using var body = JsonDocument.Parse(await allocated.Content.ReadAsStringAsync());
            var sandboxId = body.RootElement.GetProperty("sandbox_id").GetString();
            using var released = await track.PostAsync(new Uri($"v1/sandboxes/{sandboxId}/mark-for-deletion", UriKind.Relative), null);
            Assert.Equal(System.Net.HttpStatusCode.OK, released.StatusCode);
        }

        var run = await CliRun.RunAsync(broker.BaseAddress, Brokers.AdminToken, "jobs", "run", "cleanup", "--wait");

        Assert.True(run.ExitCode == 0, run.ToString());
        // Progress lines while it ran (stderr is not a terminal here: one line per poll), then the finished record.
        Assert.Matches(@"cleanup cleanup-\d+-[0-9a-f]+: running: examined \d+", run.Stderr);
        Assert.Matches(@"cleanup cleanup-\d+-[0-9a-f]+: finished, outcome success \(trigger admin", run.Stdout);
        Assert.Contains("deleted 3", run.Stdout);
        var stats = await CliRun.RunAsync(broker.BaseAddress, Brokers.AdminToken, "stats", "--prefix", prefix);
        Assert.Matches(@"(?m)^deleted\s+3$", stats.Stdout);
        Directory.Delete(directory, recursive: true);
    }
}

using System.Text.Json;
using SandboxBroker.Cli.Tests.Infrastructure;

namespace SandboxBroker.Cli.Tests;

/// <summary>show, release, retry-deletion, bulk-delete and jobs against the real broker (SQLite).</summary>
[Collection(BrokersCollection.Name)]
public sealed class CommandTests(Brokers brokers)
{
    private Uri Url => brokers.Sqlite.BaseAddress;

    [Fact]
    public async Task Release_moves_an_allocated_sandbox_to_pending_deletion_and_show_tells_its_history()
    {
        var prefix = SandboxFiles.Prefix("rel");
        await CliRun.RunAsync(Url, Brokers.AdminToken, "register", "--csv", SandboxFiles.Csv(prefix, 1));
        using var track = Brokers.TrackClient(brokers.Sqlite, "student-" + prefix);
        track.DefaultRequestHeaders.Add("X-Sandbox-Name-Prefix", prefix);
        using var allocated = await track.PostAsync(new Uri("v1/allocate", UriKind.Relative), null);
        Assert.Equal(System.Net.HttpStatusCode.Created, allocated.StatusCode);
        var id = prefix + "00001";

        var release = await CliRun.RunAsync(Url, Brokers.AdminToken, "release", id);
        var show = await CliRun.RunAsync(Url, Brokers.AdminToken, "show", id);
        var showJson = await CliRun.RunAsync(Url, Brokers.AdminToken, "show", id, "--json");

        Assert.True(release.ExitCode == 0, release.ToString());
        Assert.Contains($"sandbox {id}: pending_deletion", release.Stdout);
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Matches(@"status:\s+pending_deletion", show.Stdout);
        Assert.Matches(@"allocated_to_track:\s+student-" + prefix, show.Stdout);
        Assert.Contains("history (3 event(s), oldest first):", show.Stdout);
        Assert.Matches(@"-\s+available\s+registration", show.Stdout);
        Assert.Matches(@"available\s+allocated\s+track:track-1\s+student-", show.Stdout);
        Assert.Matches(@"allocated\s+pending_deletion\s+admin:admin-1", show.Stdout);
        using var json = JsonDocument.Parse(showJson.Stdout);
        Assert.Equal("pending_deletion", json.RootElement.GetProperty("sandbox").GetProperty("status").GetString());
        Assert.Equal(3, json.RootElement.GetProperty("history").GetProperty("events").GetArrayLength());
    }

    [Fact]
    public async Task Release_of_an_available_sandbox_is_409_INVALID_STATE()
    {
        var prefix = SandboxFiles.Prefix("avail");
        await CliRun.RunAsync(Url, Brokers.AdminToken, "register", "--csv", SandboxFiles.Csv(prefix, 1));

        var result = await CliRun.RunAsync(Url, Brokers.AdminToken, "release", prefix + "00001");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("409 INVALID_STATE", result.Stderr);
        Assert.Contains("request_id:", result.Stderr);
    }

    [Fact]
    public async Task Bulk_delete_and_retry_deletion_dry_runs_count_without_changing_anything()
    {
        var bulk = await CliRun.RunAsync(Url, Brokers.AdminToken, "bulk-delete", "--status", "stale", "--dry-run");
        var bulkJson = await CliRun.RunAsync(Url, Brokers.AdminToken, "bulk-delete", "--status", "deletion_failed", "--dry-run", "--json");
        var retry = await CliRun.RunAsync(Url, Brokers.AdminToken, "retry-deletion", "--all", "--dry-run");
        var retryOne = await CliRun.RunAsync(Url, Brokers.AdminToken, "retry-deletion", "no-such-sandbox");

        Assert.True(bulk.ExitCode == 0, bulk.ToString());
        Assert.Matches(@"would tombstone \(stale\): 0 sandbox\(es\)", bulk.Stdout);
        using var json = JsonDocument.Parse(bulkJson.Stdout);
        Assert.True(json.RootElement.GetProperty("dry_run").GetBoolean());
        Assert.Equal("deletion_failed", json.RootElement.GetProperty("from_status").GetString());
        Assert.True(retry.ExitCode == 0, retry.ToString());
        Assert.Contains("would retry: 0 sandbox(es)", retry.Stdout);
        Assert.True(retryOne.ExitCode == 1, retryOne.ToString());
        Assert.Contains("404 SANDBOX_NOT_FOUND", retryOne.Stderr);
    }

    [Fact]
    public async Task Jobs_lists_every_job_and_jobs_run_wait_runs_one_to_its_end()
    {
        var jobs = await CliRun.RunAsync(Url, Brokers.AdminToken, "jobs");
        var run = await CliRun.RunAsync(Url, Brokers.AdminToken, "jobs", "run", "expiry", "--wait");
        var runJson = await CliRun.RunAsync(Url, Brokers.AdminToken, "jobs", "run", "cleanup", "--wait", "--json");

        Assert.True(jobs.ExitCode == 0, jobs.ToString());
        foreach (var job in new[] { "sync", "cleanup", "expiry", "stale_purge" })
        {
            Assert.Matches($@"(?m)^{job}\s+false", jobs.Stdout); // scheduled jobs are off in this broker
        }

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Matches(@"expiry: completed \(run expiry-\d+-[0-9a-f]+\): expired 0", run.Stdout);
        using var json = JsonDocument.Parse(runJson.Stdout);
        var runId = json.RootElement.GetProperty("run_id").GetString()!;
        Assert.StartsWith("cleanup-", runId);

        var shown = await CliRun.RunAsync(Url, Brokers.AdminToken, "jobs", "show", runId);
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Contains($"cleanup {runId}: finished, outcome success (trigger admin", shown.Stdout);
        Assert.Matches(@"counts: .*examined \d+", shown.Stdout);
    }
}

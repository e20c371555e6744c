using SandboxBroker.Api.Storage;

namespace SandboxBroker.Tests.Storage;

/// <summary>
/// Job run records: a save replaces the run's record (start, progress, end), any replica reads it by id alone, a
/// job's runs list newest first, and a job keeps its newest <see cref="JobRun.KeptPerJob"/> finished runs.
/// </summary>
public abstract partial class StoreContractTests
{
    private static JobRun Run(string job, long startedAt, long? finishedAt = null, long changed = 0) => new()
    {
        RunId = JobRunIds.New(job, startedAt),
        Job = job,
        Trigger = "schedule",
        Instance = "host-a",
        StartedAt = startedAt,
        UpdatedAt = finishedAt ?? startedAt,
        FinishedAt = finishedAt,
        Outcome = finishedAt is null ? null : "success",
        Counts = new Dictionary<string, long> { ["examined"] = 3, ["changed"] = changed, ["failed"] = 0, ["skipped"] = 0 },
    };

    [Fact]
    public async Task A_run_record_is_replaced_by_each_save_and_read_back_by_its_id()
    {
        var store = await CreateStoreAsync();
        var running = Run("cleanup", Now) with { Trigger = "admin" };
        await store.SaveJobRunAsync(running, default);

        var read = await store.GetJobRunAsync(running.RunId, default);
        Assert.NotNull(read);
        Assert.Equal(("cleanup", "admin", "host-a", Now), (read.Job, read.Trigger, read.Instance, read.StartedAt));
        Assert.Null(read.FinishedAt);
        Assert.Null(read.Outcome);
        Assert.Equal(0, read.Counts["changed"]);

        var progressed = running with { UpdatedAt = Now + 2, Counts = new Dictionary<string, long> { ["examined"] = 6, ["changed"] = 4, ["deleted"] = 4 } };
        await store.SaveJobRunAsync(progressed, default);
        var finished = progressed with { FinishedAt = Now + 5, UpdatedAt = Now + 5, Outcome = "success" };
        await store.SaveJobRunAsync(finished, default);

        read = await store.GetJobRunAsync(running.RunId, default);
        Assert.NotNull(read);
        Assert.Equal(Now + 5, read.FinishedAt);
        Assert.Equal("success", read.Outcome);
        Assert.Equal(new Dictionary<string, long> { ["examined"] = 6, ["changed"] = 4, ["deleted"] = 4 }, read.Counts);
        Assert.Single(await store.ListJobRunsAsync("cleanup", 10, default));
    }

    [Theory]
    [InlineData("cleanup-1764919320-a1b2c3")]
    [InlineData("no-such-run")]
    [InlineData("")]
    public async Task An_unknown_or_malformed_run_id_names_no_run(string runId)
    {
        var store = await CreateStoreAsync();
        await store.SaveJobRunAsync(Run("cleanup", Now), default);

        Assert.Null(await store.GetJobRunAsync(runId, default));
    }

    [Fact]
    public async Task A_job_lists_its_own_runs_newest_first_and_keeps_its_newest_twenty()
    {
        var store = await CreateStoreAsync();
        var cleanups = new List<JobRun>();
        for (var i = 0; i < JobRun.KeptPerJob + 5; i++)
        {
            var run = Run("cleanup", Now + (i * 60), finishedAt: Now + (i * 60) + 1, changed: i);
            cleanups.Add(run);
            await store.SaveJobRunAsync(run, default);
        }

        var sync = Run("sync", Now + 30, finishedAt: Now + 31);
        await store.SaveJobRunAsync(sync, default);

        var newest = await store.ListJobRunsAsync("cleanup", 5, default);
        Assert.Equal(cleanups.AsEnumerable().Reverse().Take(5).Select(r => r.RunId), newest.Select(r => r.RunId));

        var kept = await store.ListJobRunsAsync("cleanup", 100, default);
        Assert.Equal(JobRun.KeptPerJob, kept.Count);
        Assert.Equal(cleanups.Skip(5).Reverse().Select(r => r.RunId), kept.Select(r => r.RunId));
        Assert.Null(await store.GetJobRunAsync(cleanups[0].RunId, default));
        Assert.Equal([sync.RunId], (await store.ListJobRunsAsync("sync", 100, default)).Select(r => r.RunId));
    }
}

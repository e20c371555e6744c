using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using SandboxBroker.Cli.Infrastructure;

namespace SandboxBroker.Cli.Commands;

/// <summary>
/// sandbox-broker jobs: every job's last run, outcome and schedule; `jobs run NAME [--wait]` triggers one (and with
/// --wait follows a pass that outlives the broker's wait through its run record until it ends); `jobs show RUN_ID`.
/// </summary>
internal static class JobsCommand
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    private static readonly string[] CommonCounts = ["examined", "changed", "failed", "skipped"];

    public static Command Create()
    {
        var jobs = GlobalOptions.AddJsonTo(new Command("jobs", "Every job: last run, outcome, duration, next run, run-lock holder"));
        CommandAction.Set(jobs, async (context, _, ct) =>
        {
            var overview = await context.Broker.GetAsync("admin/jobs", ct);
            if (context.Json)
            {
                context.WriteJson(overview);
                return ExitCodes.Success;
            }

            var table = new TableWriter("JOB", "ENABLED", "RUNNING", "LAST_RUN_AT", "OUTCOME", "DURATION_MS", "NEXT_RUN_AT", "LOCK_HOLDER");
            foreach (var job in overview?["jobs"]?.AsArray() ?? [])
            {
                table.Add(Formats.Text(job, "name"), Formats.Text(job, "enabled"), Formats.Text(job, "running"), Formats.Time(job, "last_run_at"),
                    Formats.Text(job, "last_outcome"), Formats.Text(job, "last_duration_ms"), Formats.Time(job, "next_run_at"), Formats.Text(job, "lease_holder"));
            }

            table.WriteTo(context.Terminal);
            return ExitCodes.Success;
        });
        jobs.Add(Run());
        jobs.Add(Show());
        return jobs;
    }

    private static Command Run()
    {
        var name = new Argument<string>("name") { Description = "sync, cleanup, expiry or stale_purge" };
        name.AcceptOnlyFromAmong([.. JobTriggers.Names]);
        var wait = new Option<bool>("--wait", "-w") { Description = "When the pass outlives the broker's wait (202), follow it with progress until it ends" };
        var graceHours = new Option<double?>("--grace-hours") { Description = "stale_purge only: tombstone stale sandboxes older than this (default: the broker's 24)" };
        var command = GlobalOptions.AddJsonTo(new Command("run", "Run a job now (under its run lock, like the schedule)") { name, wait, graceHours });
        CommandAction.Set(command, async (context, parsed, ct) =>
        {
            var (job, path) = JobTriggers.For(parsed.GetValue(name)!);
            var grace = parsed.GetValue(graceHours)?.ToString(CultureInfo.InvariantCulture);
            var reply = await context.Broker.SendAsync(HttpMethod.Post, Query.Path(path, ("grace_period_hours", job == "stale_purge" ? grace : null)), null, ct);
            if (reply.Status != 202)
            {
                WriteResult(context, job, reply.Body);
                return ExitCodes.Success;
            }

            var runId = Formats.Text(reply.Body, "run_id");
            if (!parsed.GetValue(wait) || runId is null)
            {
                WriteRunning(context, job, reply.Body, runId);
                return ExitCodes.Success;
            }

            var run = await FollowAsync(context, job, runId, ct);
            WriteRun(context, run);
            return Succeeded(run) ? ExitCodes.Success : ExitCodes.Failure;
        });
        return command;
    }

    private static Command Show()
    {
        var runId = new Argument<string>("run_id") { Description = "A run id (printed by `jobs run`, listed by `jobs --json`)" };
        var command = GlobalOptions.AddJsonTo(new Command("show", "One run of a job: progress while it runs, the result when done") { runId });
        CommandAction.Set(command, async (context, parsed, ct) =>
        {
            WriteRun(context, await context.Broker.GetAsync($"admin/jobs/runs/{Query.Segment(parsed.GetValue(runId)!)}", ct));
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Polls the run record (any replica answers it) until it has finished_at, showing its counts meanwhile.</summary>
    private static async Task<JsonNode?> FollowAsync(CliContext context, string job, string runId, CancellationToken ct)
    {
        var progress = new ProgressDisplay(context.Terminal, $"{job} {runId}", 0);
        try
        {
            while (true)
            {
                var run = await context.Broker.GetAsync($"admin/jobs/runs/{Query.Segment(runId)}", ct);
                if (Formats.Number(run, "finished_at") is not null)
                {
                    return run;
                }

                progress.Status("running: " + Counts(run));
                await Task.Delay(PollInterval, ct);
            }
        }
        finally
        {
            progress.Finish();
        }
    }

    private static bool Succeeded(JsonNode? run) => Formats.Text(run, "outcome") is "success" or "guarded";

    /// <summary>The counts every job has first (examined, changed, failed, skipped), then the job's own (deleted, expired, ...).</summary>
    private static string Counts(JsonNode? run) =>
        string.Join(", ", (run?["counts"]?.AsObject() ?? [])
            .OrderBy(c => Array.IndexOf(CommonCounts, c.Key) is var i and >= 0 ? i : CommonCounts.Length)
            .Select(c => $"{c.Key} {c.Value?.ToJsonString()}"));

    private static void WriteResult(CliContext context, string job, JsonNode? body)
    {
        if (context.Json)
        {
            context.WriteJson(body);
            return;
        }

        var fields = (body?.AsObject() ?? []).Where(f => f.Key is not ("status" or "run_id")).Select(f => $"{f.Key} {f.Value?.ToJsonString()}");
        context.Terminal.Out($"{job}: {Formats.Text(body, "status")} (run {Formats.Text(body, "run_id") ?? "-"}): {string.Join(", ", fields)}");
    }

    private static void WriteRunning(CliContext context, string job, JsonNode? body, string? runId)
    {
        if (context.Json)
        {
            context.WriteJson(body);
            return;
        }

        context.Terminal.Out(runId is null
            ? $"{job}: a pass is already running on {Formats.Text(body, "lease_holder") ?? "another instance"}; see `sandbox-broker jobs`."
            : $"{job}: still running as {runId}; follow it with `sandbox-broker jobs show {runId}` (or trigger with --wait).");
    }

    private static void WriteRun(CliContext context, JsonNode? run)
    {
        if (context.Json)
        {
            context.WriteJson(run);
            return;
        }

        context.Terminal.Out($"{Formats.Text(run, "job")} {Formats.Text(run, "run_id")}: {Formats.Text(run, "status")}, outcome {Formats.Text(run, "outcome") ?? "-"}" +
                             $" (trigger {Formats.Text(run, "trigger")}, instance {Formats.Text(run, "instance")})");
        context.Terminal.Out($"  started {Formats.Time(run, "started_at") ?? "-"}, finished {Formats.Time(run, "finished_at") ?? "-"}");
        context.Terminal.Out("  counts: " + Counts(run));
    }
}

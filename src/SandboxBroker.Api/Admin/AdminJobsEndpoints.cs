using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using SandboxBroker.Api.Configuration;
using SandboxBroker.Api.Http;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Workers;
using SandboxBroker.Api.Workers.Cleanup;
using SandboxBroker.Api.Workers.Expiry;
using SandboxBroker.Api.Workers.StalePurge;
using SandboxBroker.Api.Workers.Sync;

namespace SandboxBroker.Api.Admin;

/// <summary>
/// Admin job triggers (/sync, /cleanup, /expire, /auto-delete-stale) and GET /jobs. A trigger
/// ignores the job's period but runs under its run lock, waiting up to Jobs:AdminWait for a running pass.
/// </summary>
internal static class AdminJobsEndpoints
{
    private const double MaxGraceHours = 24 * 3650;

    public static RouteGroupBuilder MapAdminJobs(this RouteGroupBuilder group)
    {
        group.MapPost("/sync", SyncAsync)
            .WithName("TriggerSync")
            .WithSummary("Sync the pool with CSP now")
            .WithDescription("Upserts what CSP lists and marks available sandboxes missing upstream stale, unless the blast-radius guard holds (guarded: true). 502 UPSTREAM_ERROR when CSP fails, 503 with Retry-After when its circuit is open, 202 status \"running\" when another pass kept the run lock.")
            .Produces<SyncResponse>()
            .Produces<RunningResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        group.MapPost("/cleanup", CleanupAsync)
            .WithName("TriggerCleanup")
            .WithSummary("Delete due pending_deletion sandboxes upstream now")
            .WithDescription("A pass still running after Jobs:AdminWait (20 s) goes on in the background and answers 202 status \"running\" with Location: the run's record (GET /jobs/runs/{run_id}). An open CSP circuit ends the pass early (circuit_open: true) without counting attempts.")
            .Produces<CleanupResponse>()
            .Produces<RunningResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        group.MapPost("/expire", ExpireAsync)
            .WithName("TriggerExpiry")
            .WithSummary("Mark allocated sandboxes past expires_at + grace for deletion now")
            .Produces<ExpiryResponse>()
            .Produces<RunningResponse>(StatusCodes.Status202Accepted);

        group.MapPost("/auto-delete-stale", PurgeStaleAsync)
            .WithName("TriggerStalePurge")
            .WithSummary("Tombstone stale sandboxes older than grace_period_hours (default 24) now")
            .WithDescription("Also removes tombstones past Broker:TombstoneRetention that CSP no longer lists. grace_period_hours must be a number >= 0.")
            .Produces<StalePurgeResponse>()
            .Produces<RunningResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest);

        group.MapGet("/jobs", JobsAsync)
            .WithName("ListJobs")
            .WithSummary("Every job: last run, outcome, duration, next run, which instance holds its run lock, and its last runs")
            .Produces<JobsOverview>();

        group.MapGet("/jobs/runs/{runId}", RunAsync)
            .WithName("GetJobRun")
            .WithSummary("One run of a job: progress while it runs, the result when done")
            .WithDescription("{run_id, job, trigger (schedule|admin), instance, started_at, finished_at (null while running), status, " +
                             "outcome, updated_at, counts{examined, changed, failed, skipped, ...the job's own}}. Counts are stored at " +
                             "least every Jobs:RunProgressInterval (2 s) while the pass runs, so any replica can answer. The newest " +
                             "20 runs of each job are kept; an unknown run is 404 RUN_NOT_FOUND.")
            .Produces<JobRunResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        return group;
    }

    private static async Task<IResult> SyncAsync(JobTriggers jobs, IOptions<BrokerOptions> options, CancellationToken ct) =>
        await jobs.SyncAsync(ct) switch
        {
            TriggerOutcome<SyncResult>.Completed { Result: var r, RunId: var run } =>
                TypedResults.Ok(new SyncResponse("completed", r.Synced, r.MarkedStale, r.DurationMs, r.Guarded, r.Created, r.Revived, run, r.Verified, r.Relisted)),
            var other => NotCompleted("sync", other, options.Value.BasePath),
        };

    private static async Task<IResult> CleanupAsync(JobTriggers jobs, IOptions<BrokerOptions> options, CancellationToken ct) =>
        await jobs.CleanupAsync(ct) switch
        {
            TriggerOutcome<CleanupResult>.Completed { Result: var r, RunId: var run } =>
                TypedResults.Ok(new CleanupResponse("completed", r.Deleted, r.Failed, r.DurationMs, r.GaveUp, r.Skipped, r.CircuitOpen, run)),
            var other => NotCompleted("cleanup", other, options.Value.BasePath),
        };

    private static async Task<IResult> ExpireAsync(JobTriggers jobs, IOptions<BrokerOptions> options, CancellationToken ct) =>
        await jobs.ExpireAsync(ct) switch
        {
            TriggerOutcome<ExpiryResult>.Completed { Result: var r, RunId: var run } =>
                TypedResults.Ok(new ExpiryResponse("completed", r.Expired, r.DurationMs, run)),
            var other => NotCompleted("expiry", other, options.Value.BasePath),
        };

    private static async Task<IResult> PurgeStaleAsync(
        JobTriggers jobs,
        IOptions<JobsOptions> jobOptions,
        IOptions<BrokerOptions> options,
        [FromQuery(Name = "grace_period_hours")] string? gracePeriodHours,
        CancellationToken ct)
    {
        var hours = jobOptions.Value.StalePurge.GracePeriod.TotalHours;
        if (gracePeriodHours is not null
            && (!double.TryParse(gracePeriodHours, NumberStyles.Float, CultureInfo.InvariantCulture, out hours)
                || !double.IsFinite(hours) || hours < 0 || hours > MaxGraceHours))
        {
            return Problems.BadRequest($"grace_period_hours must be a number of hours from 0 to {MaxGraceHours}.");
        }

        return await jobs.PurgeStaleAsync(TimeSpan.FromHours(hours), ct) switch
        {
            TriggerOutcome<StalePurgeResult>.Completed { Result: var r, RunId: var run } =>
                TypedResults.Ok(new StalePurgeResponse("completed", r.Deleted, r.DurationMs, hours, r.Purged, r.PurgeSkipped, run)),
            var other => NotCompleted("stale_purge", other, options.Value.BasePath),
        };
    }

    private static async Task<IResult> JobsAsync(JobTriggers jobs, CancellationToken ct) => TypedResults.Ok(await jobs.OverviewAsync(ct));

    private static async Task<IResult> RunAsync(string runId, JobTriggers jobs, CancellationToken ct)
    {
        if (AdminInput.CheckId("run id", runId) is { } error)
        {
            return AdminResults.Invalid(error);
        }

        return await jobs.RunAsync(runId, ct) is { } run
            ? TypedResults.Ok(run)
            : Problems.Result(StatusCodes.Status404NotFound, ErrorCodes.RunNotFound, $"No run {runId} is kept (the newest {JobRun.KeptPerJob} of each job are).");
    }

    /// <summary>The outcomes every trigger shares, mapped in one place.</summary>
    private static IResult NotCompleted<T>(string job, TriggerOutcome<T> outcome, string basePath) => outcome switch
    {
        TriggerOutcome<T>.Running running => TypedResults.Accepted(
            running.RunId is { } run ? $"{basePath}/admin/jobs/runs/{Uri.EscapeDataString(run)}" : null,
            new RunningResponse("running", job, running.LeaseHolder, running.RunId)),
        TriggerOutcome<T>.UpstreamFailed failed => Problems.Result(StatusCodes.Status502BadGateway, ErrorCodes.UpstreamError, $"CSP failed: {failed.Reason}"),
        TriggerOutcome<T>.CircuitOpen open => Problems.Unavailable(
            "The CSP circuit is open after repeated failures; retry later.", (int)Math.Max(1, Math.Ceiling(open.RetryAfter.TotalSeconds))),
        _ => Problems.Unavailable("The broker is shutting down; retry on another instance."),
    };

    /// <summary><c>verified</c>/<c>relisted</c>: deletions confirmed gone upstream / sent back for deletion (SPEC 12).</summary>
    internal sealed record SyncResponse(
        string Status, int Synced, int MarkedStale, long DurationMs, bool Guarded, int Created, int Revived, string RunId, int Verified, int Relisted);

    internal sealed record CleanupResponse(
        string Status, int Deleted, int Failed, long DurationMs, int GaveUp, int Skipped, bool CircuitOpen, string RunId);

    internal sealed record ExpiryResponse(string Status, int Expired, long DurationMs, string RunId);

    internal sealed record StalePurgeResponse(
        string Status, int Deleted, long DurationMs, double GracePeriodHours, int TombstonesPurged, bool PurgeSkipped, string RunId);

    /// <summary>202: the pass goes on; follow it at Location (GET /admin/jobs/runs/{run_id}).</summary>
    internal sealed record RunningResponse(string Status, string Job, string? LeaseHolder, string? RunId);
}

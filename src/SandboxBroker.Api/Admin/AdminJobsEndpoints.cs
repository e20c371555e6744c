using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using SandboxBroker.Api.Http;
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
            .WithDescription("A pass still running after 20 s goes on in the background and answers 202 status \"running\" (see GET /jobs). An open CSP circuit ends the pass early (circuit_open: true) without counting attempts.")
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
            .WithSummary("Every job: last run, outcome, duration, next run, and which instance holds its run lock")
            .Produces<JobsOverview>();

        return group;
    }

    private static async Task<IResult> SyncAsync(JobTriggers jobs, CancellationToken ct) =>
        await jobs.SyncAsync(ct) switch
        {
            TriggerOutcome<SyncResult>.Completed { Result: var r } =>
                TypedResults.Ok(new SyncResponse("completed", r.Synced, r.MarkedStale, r.DurationMs, r.Guarded, r.Created, r.Revived)),
            var other => NotCompleted("sync", other),
        };

    private static async Task<IResult> CleanupAsync(JobTriggers jobs, CancellationToken ct) =>
        await jobs.CleanupAsync(ct) switch
        {
            TriggerOutcome<CleanupResult>.Completed { Result: var r } =>
                TypedResults.Ok(new CleanupResponse("completed", r.Deleted, r.Failed, r.DurationMs, r.GaveUp, r.Skipped, r.CircuitOpen)),
            var other => NotCompleted("cleanup", other),
        };

    private static async Task<IResult> ExpireAsync(JobTriggers jobs, CancellationToken ct) =>
        await jobs.ExpireAsync(ct) switch
        {
            TriggerOutcome<ExpiryResult>.Completed { Result: var r } => TypedResults.Ok(new ExpiryResponse("completed", r.Expired, r.DurationMs)),
            var other => NotCompleted("expiry", other),
        };

    private static async Task<IResult> PurgeStaleAsync(
        JobTriggers jobs,
        IOptions<JobsOptions> options,
        [FromQuery(Name = "grace_period_hours")] string? gracePeriodHours,
        CancellationToken ct)
    {
        var hours = options.Value.StalePurge.GracePeriod.TotalHours;
        if (gracePeriodHours is not null
            && (!double.TryParse(gracePeriodHours, NumberStyles.Float, CultureInfo.InvariantCulture, out hours)
                || !double.IsFinite(hours) || hours < 0 || hours > MaxGraceHours))
        {
            return Problems.BadRequest($"grace_period_hours must be a number of hours from 0 to {MaxGraceHours}.");
        }

        return await jobs.PurgeStaleAsync(TimeSpan.FromHours(hours), ct) switch
        {
            TriggerOutcome<StalePurgeResult>.Completed { Result: var r } =>
                TypedResults.Ok(new StalePurgeResponse("completed", r.Deleted, r.DurationMs, hours, r.Purged, r.PurgeSkipped)),
            var other => NotCompleted("stale_purge", other),
        };
    }

    private static async Task<IResult> JobsAsync(JobTriggers jobs, CancellationToken ct) => TypedResults.Ok(await jobs.OverviewAsync(ct));

    /// <summary>The outcomes every trigger shares, mapped in one place.</summary>
    private static IResult NotCompleted<T>(string job, TriggerOutcome<T> outcome) => outcome switch
    {
        TriggerOutcome<T>.Running running => TypedResults.Accepted((string?)null, new RunningResponse("running", job, running.LeaseHolder)),
        TriggerOutcome<T>.UpstreamFailed failed => Problems.Result(StatusCodes.Status502BadGateway, ErrorCodes.UpstreamError, $"CSP failed: {failed.Reason}"),
        TriggerOutcome<T>.CircuitOpen open => Problems.Unavailable(
            "The CSP circuit is open after repeated failures; retry later.", (int)Math.Max(1, Math.Ceiling(open.RetryAfter.TotalSeconds))),
        _ => Problems.Unavailable("The broker is shutting down; retry on another instance."),
    };

    internal sealed record SyncResponse(string Status, int Synced, int MarkedStale, long DurationMs, bool Guarded, int Created, int Revived);

    internal sealed record CleanupResponse(string Status, int Deleted, int Failed, long DurationMs, int GaveUp, int Skipped, bool CircuitOpen);

    internal sealed record ExpiryResponse(string Status, int Expired, long DurationMs);

    internal sealed record StalePurgeResponse(string Status, int Deleted, long DurationMs, double GracePeriodHours, int TombstonesPurged, bool PurgeSkipped);

    internal sealed record RunningResponse(string Status, string Job, string? LeaseHolder);
}

using Microsoft.AspNetCore.Mvc;

namespace SandboxBroker.Api.Admin;

/// <summary>Repairs: release, retry-deletion (one or all), bulk-delete. None of them calls the CSP.</summary>
internal static class AdminRepairEndpoints
{
    public static RouteGroupBuilder MapAdminRepairs(this RouteGroupBuilder group)
    {
        group.MapPost("/sandboxes/{sandboxId}/release", ReleaseAsync)
            .WithName("AdminReleaseSandbox")
            .WithSummary("Release an allocated sandbox on behalf of its holder")
            .WithDescription("allocated → pending_deletion (cleanup deletes it upstream). 200 again when it is already pending_deletion " +
                             "or deletion_failed; 409 INVALID_STATE from available or stale; 404 when there is no record or only a tombstone.")
            .Produces<AdminSandboxResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesRepairProblems();

        group.MapPost("/sandboxes/{sandboxId}/retry-deletion", RetryDeletionAsync)
            .WithName("AdminRetryDeletion")
            .WithSummary("Retry the deletion of one deletion_failed sandbox")
            .WithDescription("deletion_failed → pending_deletion with deletion_retry_count 0, last_error cleared and next_attempt_at now. " +
                             "Any other state: 409 INVALID_STATE; no record or a tombstone: 404.")
            .Produces<AdminSandboxResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesRepairProblems();

        group.MapPost("/retry-deletion", RetryAllAsync)
            .WithName("AdminRetryAllDeletions")
            .WithSummary("Retry the deletion of every deletion_failed sandbox")
            .WithDescription("After a CSP outage: every deletion_failed → pending_deletion with a fresh attempt budget. " +
                             "dry_run=true counts them without changing anything.")
            .Produces<RetryAllResponse>()
            .ProducesRepairProblems();

        group.MapPost("/bulk-delete", BulkDeleteAsync)
            .WithName("AdminBulkDelete")
            .WithSummary("Tombstone every stale or deletion_failed sandbox")
            .WithDescription("status=stale or status=deletion_failed (any other status is a 400). Marks the records deleted " +
                             "(kept as tombstones for Broker:TombstoneRetention); never calls the CSP, so remove deletion_failed " +
                             "sandboxes upstream by hand first. dry_run=true counts them without changing anything.")
            .Produces<BulkDeleteResponse>()
            .ProducesRepairProblems();

        return group;
    }

    private static async Task<IResult> ReleaseAsync(string sandboxId, AdminService admin, HttpContext context, CancellationToken ct) =>
        AdminInput.CheckId("sandbox id", sandboxId) is { } error
            ? AdminResults.Invalid(error)
            : AdminResults.ForSandbox(await admin.ReleaseAsync(sandboxId, AdminCause.Of(context), ct), sandboxId, "release");

    private static async Task<IResult> RetryDeletionAsync(string sandboxId, AdminService admin, HttpContext context, CancellationToken ct) =>
        AdminInput.CheckId("sandbox id", sandboxId) is { } error
            ? AdminResults.Invalid(error)
            : AdminResults.ForSandbox(await admin.RetryDeletionAsync(sandboxId, AdminCause.Of(context), ct), sandboxId, "retry-deletion");

    private static async Task<IResult> RetryAllAsync(
        [FromQuery(Name = "dry_run")] string? dryRun, AdminService admin, HttpContext context, CancellationToken ct) =>
        AdminInput.TryParseDryRun(dryRun, out var dry) is { } error
            ? AdminResults.Invalid(error)
            : AdminResults.ForRetryAll(await admin.RetryAllDeletionsAsync(dry, AdminCause.Of(context), ct));

    private static async Task<IResult> BulkDeleteAsync(
        [FromQuery(Name = "status")] string? status, [FromQuery(Name = "dry_run")] string? dryRun, AdminService admin, HttpContext context,
        CancellationToken ct)
    {
        var statusError = AdminInput.TryParseBulkDeleteStatus(status, out var from);
        var dryRunError = AdminInput.TryParseDryRun(dryRun, out var dry);
        if ((statusError ?? dryRunError) is { } error)
        {
            return AdminResults.Invalid(error);
        }

        return AdminResults.ForBulkDelete(await admin.BulkDeleteAsync(from, dry, AdminCause.Of(context), ct));
    }

    private static RouteHandlerBuilder ProducesRepairProblems(this RouteHandlerBuilder builder) => builder
        .ProducesProblem(StatusCodes.Status400BadRequest)
        .ProducesAdminAuthProblems();
}

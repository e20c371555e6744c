using Microsoft.AspNetCore.Mvc;
using SandboxBroker.Api.Http;

namespace SandboxBroker.Api.Admin;

/// <summary>
/// Reading the pool and registering sandboxes: GET /sandboxes, GET /sandboxes/{id}, GET /sandboxes/{id}/history,
/// GET /stats, POST /sandboxes.
/// </summary>
internal static class AdminSandboxEndpoints
{
    public static RouteGroupBuilder MapAdminSandboxes(this RouteGroupBuilder group)
    {
        group.MapGet("/sandboxes", ListAsync)
            .WithName("AdminListSandboxes")
            .WithSummary("List sandboxes, filtered and paged")
            .WithDescription("One page (limit 1-100, default 50) in a stable order, tombstones left out unless status=deleted. " +
                             "Follow `cursor` with the same filters until it is null; a garbled or forged cursor, or one used with other filters, is a 400.")
            .Produces<SandboxListResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesAdminAuthProblems();

        group.MapGet("/sandboxes/{sandboxId}", GetAsync)
            .WithName("AdminGetSandbox")
            .WithSummary("One sandbox with every field")
            .WithDescription("Includes deletion_retry_count, last_error, next_attempt_at and last_synced. A tombstone (deleted) answers 404.")
            .Produces<AdminSandboxResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesAdminAuthProblems();

        group.MapGet("/sandboxes/{sandboxId}/history", HistoryAsync)
            .WithName("AdminSandboxHistory")
            .WithSummary("What happened to one sandbox: its history, oldest first")
            .WithDescription("Every state change (and the steps that change no state but matter, such as a failed CSP delete " +
                             "attempt) with {at, from, to, actor, reason, request_id} and, where they apply, requester, track_name, " +
                             "attempt, error, next_attempt_at. The newest 100 events are kept, for as long as the record, " +
                             "tombstones included; 404 only when no record exists.")
            .Produces<HistoryResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesAdminAuthProblems();

        group.MapGet("/stats", StatsAsync)
            .WithName("AdminStats")
            .WithSummary("Exact counts per state")
            .WithDescription("Counts at the time of the call (read-your-writes), never a full-table scan. `total` leaves tombstones out; " +
                             "`deleted` counts them. name_prefix restricts the counts to one sub-pool.")
            .Produces<PoolStatsResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesAdminAuthProblems();

        group.MapPost("/sandboxes", RegisterAsync)
            .WithName("AdminRegisterSandboxes")
            .WithSummary("Register sandboxes as available (up to 1,000 per call)")
            .WithDescription("Creates each sandbox as available when no record with its id exists. An existing id, in any state and " +
                             "tombstones included, is never touched and is reported in skipped_ids. Body: application/json " +
                             "{\"sandboxes\":[{\"sandbox_id\",\"name\",\"external_id\",\"sfdc_account_id\"?}]}.")
            .Accepts<RegisterRequest>("application/json")
            .Produces<RegisterResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesAdminAuthProblems();

        return group;
    }

    private static async Task<IResult> ListAsync([AsParameters] ListQuery query, AdminService admin, CancellationToken ct)
    {
        if (AdminInput.TryParseList(query, out var request) is { } error)
        {
            return AdminResults.Invalid(error);
        }

        return AdminResults.ForList(await admin.ListAsync(request, ct));
    }

    private static async Task<IResult> GetAsync(string sandboxId, AdminService admin, CancellationToken ct)
    {
        if (AdminInput.CheckId("sandbox id", sandboxId) is { } error)
        {
            return AdminResults.Invalid(error);
        }

        return AdminResults.ForSandbox(await admin.GetAsync(sandboxId, ct), sandboxId, "get");
    }

    private static async Task<IResult> HistoryAsync(string sandboxId, AdminService admin, CancellationToken ct)
    {
        if (AdminInput.CheckId("sandbox id", sandboxId) is { } error)
        {
            return AdminResults.Invalid(error);
        }

        return AdminResults.ForHistory(await admin.HistoryAsync(sandboxId, ct), sandboxId);
    }

    private static async Task<IResult> StatsAsync([FromQuery(Name = "name_prefix")] string? namePrefix, AdminService admin, CancellationToken ct)
    {
        if (AdminInput.CheckPrefix(namePrefix) is { } error)
        {
            return AdminResults.Invalid(error);
        }

        return AdminResults.ForStats(await admin.StatsAsync(AdminInput.Blank(namePrefix), ct));
    }

    private static async Task<IResult> RegisterAsync(HttpRequest request, AdminService admin, CancellationToken ct)
    {
        var body = await RegistrationBody.ReadAsync(request, ct);
        if (body is not RegistrationBodyOutcome.Valid valid)
        {
            return AdminResults.ForRefusedBody((RegistrationBodyOutcome.Refused)body);
        }

        return AdminResults.ForRegistration(await admin.RegisterAsync(valid.Sandboxes, AdminCause.Registration(request.HttpContext), ct));
    }

    /// <summary>401 without a valid token, 403 with a track token, 429 over the rate limit: on every admin endpoint.</summary>
    public static RouteHandlerBuilder ProducesAdminAuthProblems(this RouteHandlerBuilder builder) => builder
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status429TooManyRequests);
}

using Microsoft.Extensions.Options;
using SandboxBroker.Api.Configuration;
using SandboxBroker.Api.Http;

namespace SandboxBroker.Api.Allocation;

/// <summary>Track endpoints, called by the lab setup and stop scripts with a track token.</summary>
internal static class TrackApi
{
    public static IServiceCollection AddAllocation(this IServiceCollection services)
    {
        services.AddSingleton<CandidateReservations>();
        services.AddSingleton<AllocationQuota>();
        services.AddSingleton<LabsWithoutReservations>();
        services.AddSingleton<AllocationPolicy>();
        services.AddSingleton<AllocationService>();
        return services;
    }

    public static RouteGroupBuilder MapTrackApi(this IEndpointRouteBuilder app, string basePath)
    {
        var group = app.MapGroup(basePath)
            .RequireAuthorization(BrokerRoles.TrackPolicy)
            .WithTags("Track")
            .WithRequesterHeaders()
            .ProducesEdgeProblems();

        group.MapPost("/allocate", AllocateAsync)
            .WithName("Allocate")
            .WithSummary("Allocate a sandbox to the requester (idempotent per requester and Idempotency-Key)")
            .WithDescription("201 with a new sandbox, 200 when this requester and key already hold one, 409 NO_SANDBOXES_AVAILABLE when the pool is empty, 429 ALLOCATION_QUOTA_EXCEEDED when the token's new allocations this minute are used up, 403 FORBIDDEN for a name prefix outside a scoped token's prefixes, 503 with Retry-After when the store is unavailable. Headers: X-Instruqt-Sandbox-ID (or legacy X-Track-ID), optional X-Instruqt-Track-ID, X-Sandbox-Name-Prefix, Idempotency-Key. The body is ignored.")
            .WithMetadata(
                new HeaderParameter(TrackHeaders.TrackName, "The lab (Instruqt track id): a reservation for this lab is allocated from first."),
                new HeaderParameter(TrackHeaders.NamePrefix, $"Only sandboxes whose name starts with this (1-{InputRules.MaxPrefixLength} printable ASCII characters); a scoped token defaults to its first prefix."),
                new HeaderParameter(TrackHeaders.IdempotencyKey, $"Separates several sandboxes of one requester; a retry with the same key gets the same sandbox (1-{InputRules.MaxIdLength} printable ASCII characters)."))
            .Produces<TrackSandboxResponse>(StatusCodes.Status201Created)
            .Produces<TrackSandboxResponse>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        group.MapGet("/sandboxes/{sandboxId}", GetAsync)
            .WithName("GetSandbox")
            .WithSummary("The requester's sandbox, in any state until it is deleted")
            .Produces<TrackSandboxResponse>()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPost("/sandboxes/{sandboxId}/mark-for-deletion", MarkForDeletionAsync)
            .WithName("MarkForDeletion")
            .WithSummary("Release the requester's sandbox for deletion (200 again on repeat; 404 when already gone)")
            .Produces<MarkForDeletionResponse>()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPost("/sandboxes/{sandboxId}/extend", ExtendAsync)
            .WithName("ExtendLease")
            .WithSummary("Extend the requester's lease (optional body {\"seconds\": N}, 60..604800; default Broker:ExtendStep)")
            .WithDescription("expires_at = max(expires_at, now) + N, capped at allocated_at + Broker:MaxLeaseDuration. 409 INVALID_STATE unless allocated, 409 LEASE_LIMIT_REACHED at the cap.")
            .Produces<TrackSandboxResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        return group;
    }

    private static async Task<IResult> ExtendAsync(string sandboxId, HttpContext context, AllocationService allocation)
    {
        if (!TryReadCaller(context, sandboxId, out var caller, out var problem))
        {
            return problem!;
        }

        var (seconds, error) = await ExtendBody.ReadAsync(context.Request, context.RequestAborted);
        if (error is not null)
        {
            return Problems.BadRequest(error);
        }

        return TrackResults.ForExtend(await allocation.ExtendAsync(sandboxId, caller, seconds, context.RequestAborted), sandboxId);
    }

    private static async Task<IResult> AllocateAsync(
        HttpContext context, AllocationService allocation, TimeProvider time, IOptions<BrokerOptions> options, Serilog.IDiagnosticContext diagnostics)
    {
        var started = time.GetTimestamp();
        if (!TrackCallers.TryRead(context, out var caller, out var problem))
        {
            return problem!;
        }

        var outcome = await allocation.AllocateAsync(caller, started, context.RequestAborted);
        var handedOut = outcome switch
        {
            AllocationOutcome.Allocated a => a.Sandbox.SandboxId,
            AllocationOutcome.Replayed r => r.Sandbox.SandboxId,
            _ => null,
        };
        if (handedOut is not null)
        {
            diagnostics.Set("sandbox_id", handedOut); // the request log line names the sandbox handed out
        }

        return TrackResults.ForAllocation(outcome, options.Value.BasePath);
    }

    private static async Task<IResult> GetAsync(string sandboxId, HttpContext context, AllocationService allocation)
    {
        if (!TryReadCaller(context, sandboxId, out var caller, out var problem))
        {
            return problem!;
        }

        return TrackResults.ForGet(await allocation.GetAsync(sandboxId, caller, context.RequestAborted), sandboxId);
    }

    private static async Task<IResult> MarkForDeletionAsync(string sandboxId, HttpContext context, AllocationService allocation)
    {
        if (!TryReadCaller(context, sandboxId, out var caller, out var problem))
        {
            return problem!;
        }

        return TrackResults.ForMark(
            await allocation.MarkForDeletionAsync(sandboxId, caller, context.RequestAborted), sandboxId);
    }

    private static bool TryReadCaller(HttpContext context, string sandboxId, out TrackCaller caller, out IResult? problem)
    {
        if (!InputRules.IsValidId(sandboxId))
        {
            caller = null!;
            problem = Problems.BadRequest(InputRules.Describe("The sandbox id", InputRules.MaxIdLength));
            return false;
        }

        return TrackCallers.TryRead(context, out caller, out problem);
    }
}

using SandboxBroker.Api.Http;
using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Allocation;

/// <summary>The one place where track outcomes become HTTP answers.</summary>
internal static class TrackResults
{
    /// <summary>Long enough for an operator's reconciliation, short enough that lab scripts' retries pick it up.</summary>
    public const int MaintenanceRetryAfterSeconds = 30;

    public static IResult ForAllocation(AllocationOutcome outcome, string basePath) => outcome switch
    {
        AllocationOutcome.Allocated a => TypedResults.Created(
            $"{basePath}/sandboxes/{Uri.EscapeDataString(a.Sandbox.SandboxId)}", TrackSandboxResponse.From(a.Sandbox)),
        AllocationOutcome.Replayed r => TypedResults.Ok(TrackSandboxResponse.From(r.Sandbox)),
        AllocationOutcome.PoolEmpty => Problems.Result(StatusCodes.Status409Conflict, ErrorCodes.NoSandboxesAvailable,
            "No sandboxes available in the pool."),
        AllocationOutcome.QuotaExceeded q => Problems.Result(StatusCodes.Status429TooManyRequests, ErrorCodes.AllocationQuotaExceeded,
            $"Token '{q.TokenName}' has used its quota of new allocations for this minute; retry after {q.RetryAfterSeconds} s.", q.RetryAfterSeconds),
        AllocationOutcome.HeldViaAnotherToken => Problems.NotOwner(
            "This requester holds a sandbox allocated through another token; use that token."),
        AllocationOutcome.Maintenance => Problems.Result(StatusCodes.Status503ServiceUnavailable, ErrorCodes.Maintenance,
            "Allocation is paused for maintenance; retry later.", MaintenanceRetryAfterSeconds),
        AllocationOutcome.Unavailable u => Problems.Unavailable($"Allocation could not complete: {u.Reason}. Retry shortly."),
        _ => throw new InvalidOperationException("unknown allocation outcome"),
    };

    public static IResult ForGet(HolderOutcome outcome, string sandboxId) => outcome switch
    {
        HolderOutcome.Ok ok => TypedResults.Ok(TrackSandboxResponse.From(ok.Sandbox)),
        _ => ForFailure(outcome, sandboxId),
    };

    public static IResult ForMark(HolderOutcome outcome, string sandboxId) => outcome switch
    {
        HolderOutcome.Ok ok => TypedResults.Ok(MarkForDeletionResponse.From(ok.Sandbox)),
        HolderOutcome.Repeat repeat => TypedResults.Ok(MarkForDeletionResponse.From(repeat.Sandbox)),
        _ => ForFailure(outcome, sandboxId),
    };

    public static IResult ForExtend(HolderOutcome outcome, string sandboxId) => outcome switch
    {
        HolderOutcome.Ok ok => TypedResults.Ok(TrackSandboxResponse.From(ok.Sandbox)),
        HolderOutcome.InvalidState s => Problems.Result(StatusCodes.Status409Conflict, ErrorCodes.InvalidState,
            $"Sandbox {sandboxId} is {s.Sandbox.Status.ToWire()}; only an allocated sandbox can be extended."),
        HolderOutcome.LeaseLimitReached => Problems.Result(StatusCodes.Status409Conflict, ErrorCodes.LeaseLimitReached,
            $"Sandbox {sandboxId} already reaches the longest lease (Broker:MaxLeaseDuration after allocation)."),
        _ => ForFailure(outcome, sandboxId),
    };

    private static IResult ForFailure(HolderOutcome outcome, string sandboxId) => outcome switch
    {
        HolderOutcome.NotOwner => Problems.NotOwner($"Sandbox {sandboxId} is not held by this requester."),
        _ => Problems.NotFound($"Sandbox {sandboxId} not found."),
    };
}

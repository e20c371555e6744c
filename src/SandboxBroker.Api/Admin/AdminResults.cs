using SandboxBroker.Api.Http;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Admin;

/// <summary>The one place where admin outcomes and refused input become HTTP answers.</summary>
internal static class AdminResults
{
    public const string Completed = "completed";

    public static IResult Invalid(string detail) => Problems.BadRequest(detail);

    public static IResult ForList(ListOutcome outcome) => outcome switch
    {
        ListOutcome.Page page => TypedResults.Ok(new SandboxListResponse(
            page.Items.Select(AdminSandboxResponse.From).ToList(), page.Items.Count, page.Cursor)),
        _ => Invalid("cursor is not valid for this query: it is garbled, forged, or was issued for other filters. Start again without a cursor."),
    };

    public static IResult ForSandbox(SandboxOutcome outcome, string sandboxId, string action) => outcome switch
    {
        SandboxOutcome.Ok ok => TypedResults.Ok(AdminSandboxResponse.From(ok.Sandbox)),
        SandboxOutcome.Repeat repeat => TypedResults.Ok(AdminSandboxResponse.From(repeat.Sandbox)),
        SandboxOutcome.InvalidState invalid => Problems.Result(StatusCodes.Status409Conflict, ErrorCodes.InvalidState,
            $"Sandbox {sandboxId} is {invalid.Current.Status.ToWire()}; {action} needs {invalid.Required.ToWire()}."),
        _ => Problems.NotFound($"Sandbox {sandboxId} not found."),
    };

    public static IResult ForHistory(SandboxHistory? history, string sandboxId) => history is null
        ? Problems.NotFound($"Sandbox {sandboxId} not found.")
        : TypedResults.Ok(new HistoryResponse(history.SandboxId, history.Status.ToWire(), history.Events));

    public static IResult ForStats(PoolCounts counts) => TypedResults.Ok(PoolStatsResponse.From(counts));

    public static IResult ForBulkDelete(BulkOutcome outcome) => TypedResults.Ok(
        new BulkDeleteResponse(Completed, outcome.From.ToWire(), outcome.Changed, outcome.DurationMs, outcome.DryRun));

    public static IResult ForRetryAll(BulkOutcome outcome) => TypedResults.Ok(
        new RetryAllResponse(Completed, outcome.Changed, outcome.DurationMs, outcome.DryRun));

    public static IResult ForRegistration(RegistrationOutcome outcome) => TypedResults.Ok(
        new RegisterResponse(outcome.Created, outcome.SkippedIds.Count, outcome.SkippedIds));

    public static IResult ForRefusedBody(RegistrationBodyOutcome.Refused refused) =>
        Problems.Result(refused.Status, ErrorCodes.ForStatus(refused.Status), refused.Detail);
}

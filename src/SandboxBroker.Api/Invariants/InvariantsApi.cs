using SandboxBroker.Api.Http;

namespace SandboxBroker.Api.Invariants;

/// <summary>
/// GET {base}/admin/invariants (admin token): runs an invariant pass now (joining one already running) and answers
/// its report; the same pass sets broker_invariant_violations. The periodic pass (every
/// Jobs:Invariants:Interval) calls <see cref="InvariantChecker.RunOnceAsync"/> from the workers.
/// </summary>
internal static class InvariantsApi
{
    public static IHostApplicationBuilder AddInvariants(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<InvariantChecker>();
        return builder;
    }

    /// <summary>On the admin group (its auth policy and tags), so /admin and its policy are declared once.</summary>
    public static RouteGroupBuilder MapInvariants(this RouteGroupBuilder admin)
    {
        admin.MapGet("/invariants", CheckAsync)
            .WithName("AdminInvariants")
            .WithSummary("Check the pool's invariants now")
            .WithDescription(
                "Walks every non-tombstone state once and reports {violations, checks, details, counts, checked_at, duration_ms}: " +
                "no requester holds two allocated sandboxes under one idempotency key; every allocated sandbox has a holder, a key and " +
                "allocated_at > 0 and is the one its holder's replay returns; pending_deletion and deletion_failed sandboxes keep " +
                "their holder; no available or stale sandbox carries a holder; the store's counts per state equal the walk. " +
                "Suspects are confirmed with a fresh read, so a busy pool does not report false violations; a count that kept " +
                "moving is listed under checks.counts_consistent.inconclusive. Also sets the metric broker_invariant_violations. " +
                "Callers arriving while a pass runs share it. 503 with Retry-After when the store is unavailable.")
            .Produces<InvariantReport>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return admin;
    }

    private static async Task<IResult> CheckAsync(InvariantChecker checker, CancellationToken ct)
    {
        try
        {
            return TypedResults.Ok(await checker.RunOnceAsync(ct));
        }
        catch (TimeoutException ex)
        {
            return Problems.Unavailable(ex.Message, retryAfterSeconds: 60);
        }
    }
}

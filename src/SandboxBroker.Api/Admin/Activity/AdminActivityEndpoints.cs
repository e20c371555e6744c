using System.ComponentModel;
using System.Globalization;
using Microsoft.AspNetCore.Mvc;

namespace SandboxBroker.Api.Admin.Activity;

/// <summary>GET /admin/activity: the numbers behind the console's overview that /stats does not give.</summary>
internal static class AdminActivityEndpoints
{
    public static RouteGroupBuilder MapAdminActivity(this RouteGroupBuilder group)
    {
        group.MapGet("/activity", ActivityAsync)
            .WithName("AdminActivity")
            .WithSummary("Per-minute allocations, releases and deletions; counts by name prefix and lab; cleanup backlog; exhaustion ETA")
            .WithDescription("Computed from the store on every call (history events of the records changed in the window, and the live " +
                             "records per state), so every replica answers the same. minutes: 1-1440 (default 60); the last bucket is the " +
                             "current, partial minute. Releases are allocated → pending_deletion (holder, operator or expiry); deletions " +
                             "are records tombstoned. exhaustion.eta_seconds: when available runs out at the allocation rate of the last " +
                             "15 minutes, null while nothing is allocated. Reads every live record: meant for a console, not a tight loop.")
            .Produces<ActivityResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesAdminAuthProblems();
        return group;
    }

    private static async Task<IResult> ActivityAsync(
        [FromQuery(Name = "minutes"), Description("Window in minutes, 1-1440 (default 60)")] string? minutes,
        ActivityService activity,
        CancellationToken ct)
    {
        var window = ActivityService.DefaultMinutes;
        if (!string.IsNullOrEmpty(minutes)
            && (!int.TryParse(minutes, NumberStyles.None, CultureInfo.InvariantCulture, out window)
                || window < 1 || window > ActivityService.MaxMinutes))
        {
            return AdminResults.Invalid($"minutes must be a whole number from 1 to {ActivityService.MaxMinutes}.");
        }

        return TypedResults.Ok(await activity.ReportAsync(window, ct));
    }
}

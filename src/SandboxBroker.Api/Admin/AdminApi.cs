using SandboxBroker.Api.Admin.Activity;
using SandboxBroker.Api.Http;
using SandboxBroker.Api.Reservations;

namespace SandboxBroker.Api.Admin;

/// <summary>Operator endpoints under {base}/admin, admin token only.</summary>
internal static class AdminApi
{
    public static IHostApplicationBuilder AddAdmin(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<AdminCursor>();
        builder.Services.AddSingleton<AdminService>();
        builder.Services.AddSingleton<ActivityService>();
        return builder;
    }

    public static RouteGroupBuilder MapAdminApi(this IEndpointRouteBuilder app, string basePath)
    {
        var group = app.MapGroup(basePath + "/admin")
            .RequireAuthorization(BrokerRoles.AdminPolicy)
            .WithTags("Admin")
            .ProducesEdgeProblems();
        group.MapAdminSandboxes();   // list, get, stats, register
        group.MapAdminRepairs();     // release, retry-deletion, bulk-delete
        group.MapAdminJobs();        // sync, cleanup, expire, auto-delete-stale, jobs
        group.MapAdminActivity();    // activity per minute, counts by prefix and lab (the console's overview)
        group.MapAdminReservations(); // hold sandboxes for a lab ahead of an event
        return group;
    }
}

using SandboxBroker.Api.Http;

namespace SandboxBroker.Api.Admin;

/// <summary>Operator endpoints under {base}/admin (SPEC section 5), admin token only.</summary>
internal static class AdminApi
{
    public static IHostApplicationBuilder AddAdmin(this IHostApplicationBuilder builder) => builder;

    public static RouteGroupBuilder MapAdminApi(this IEndpointRouteBuilder app, string basePath)
    {
        var group = app.MapGroup(basePath + "/admin")
            .RequireAuthorization(BrokerRoles.AdminPolicy)
            .WithTags("Admin");
        group.MapAdminJobs();
        return group;
    }
}

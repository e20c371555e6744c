using SandboxBroker.Api.Http;

namespace SandboxBroker.Api.Invariants;

/// <summary>GET {base}/admin/invariants and the periodic invariant check (SPEC section 7).</summary>
internal static class InvariantsApi
{
    public static IHostApplicationBuilder AddInvariants(this IHostApplicationBuilder builder) => builder;

    public static IEndpointRouteBuilder MapInvariants(this IEndpointRouteBuilder app, string basePath)
    {
        app.MapGroup(basePath + "/admin")
            .RequireAuthorization(BrokerRoles.AdminPolicy)
            .WithTags("Admin");
        return app;
    }
}

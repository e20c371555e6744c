namespace SandboxBroker.Api.Admin;

/// <summary>Admin job triggers (/sync, /cleanup, /expire, /auto-delete-stale) and GET /jobs.</summary>
internal static class AdminJobsEndpoints
{
    public static RouteGroupBuilder MapAdminJobs(this RouteGroupBuilder group) => group;
}

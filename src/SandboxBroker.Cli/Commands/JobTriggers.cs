namespace SandboxBroker.Cli.Commands;

/// <summary>The broker's jobs by name (as GET /admin/jobs names them) and the admin endpoint that triggers each.</summary>
internal static class JobTriggers
{
    private static readonly Dictionary<string, (string Job, string Path)> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sync"] = ("sync", "admin/sync"),
        ["cleanup"] = ("cleanup", "admin/cleanup"),
        ["expiry"] = ("expiry", "admin/expire"),
        ["expire"] = ("expiry", "admin/expire"),
        ["stale_purge"] = ("stale_purge", "admin/auto-delete-stale"),
        ["auto-delete-stale"] = ("stale_purge", "admin/auto-delete-stale"),
    };

    public static IEnumerable<string> Names => ByName.Keys;

    public static (string Job, string Path) For(string name) => ByName[name];
}

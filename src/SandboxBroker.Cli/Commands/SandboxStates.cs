namespace SandboxBroker.Cli.Commands;

/// <summary>The states the admin API knows (a wrong one is a usage error here rather than a 400 there).</summary>
internal static class SandboxStates
{
    public static readonly string[] All = ["available", "allocated", "pending_deletion", "deletion_failed", "stale", "deleted"];

    /// <summary>Only these may be tombstoned in bulk.</summary>
    public static readonly string[] BulkDeletable = ["stale", "deletion_failed"];
}

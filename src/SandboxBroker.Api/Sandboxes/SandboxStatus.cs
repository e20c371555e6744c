namespace SandboxBroker.Api.Sandboxes;

/// <summary>The lifecycle states. A sandbox is single use: it never returns to Available once allocated.</summary>
public enum SandboxStatus
{
    Available,
    Allocated,
    PendingDeletion,
    DeletionFailed,
    Stale,
    Deleted,

    /// <summary>Held by a reservation for one lab (SPEC 14): available ⇄ reserved → allocated.</summary>
    Reserved,
}

public static class SandboxStatusNames
{
    public const string Available = "available";
    public const string Allocated = "allocated";
    public const string PendingDeletion = "pending_deletion";
    public const string DeletionFailed = "deletion_failed";
    public const string Stale = "stale";
    public const string Deleted = "deleted";
    public const string Reserved = "reserved";

    public static readonly IReadOnlyList<SandboxStatus> All =
    [
        SandboxStatus.Available, SandboxStatus.Allocated, SandboxStatus.PendingDeletion,
        SandboxStatus.DeletionFailed, SandboxStatus.Stale, SandboxStatus.Deleted, SandboxStatus.Reserved,
    ];

    public static string ToWire(this SandboxStatus status) => status switch
    {
        SandboxStatus.Available => Available,
        SandboxStatus.Allocated => Allocated,
        SandboxStatus.PendingDeletion => PendingDeletion,
        SandboxStatus.DeletionFailed => DeletionFailed,
        SandboxStatus.Stale => Stale,
        SandboxStatus.Deleted => Deleted,
        SandboxStatus.Reserved => Reserved,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static bool TryParse(string? value, out SandboxStatus status)
    {
        switch (value)
        {
            case Available: status = SandboxStatus.Available; return true;
            case Allocated: status = SandboxStatus.Allocated; return true;
            case PendingDeletion: status = SandboxStatus.PendingDeletion; return true;
            case DeletionFailed: status = SandboxStatus.DeletionFailed; return true;
            case Stale: status = SandboxStatus.Stale; return true;
            case Deleted: status = SandboxStatus.Deleted; return true;
            case Reserved: status = SandboxStatus.Reserved; return true;
            default: status = default; return false;
        }
    }
}

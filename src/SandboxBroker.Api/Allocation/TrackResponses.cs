using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Allocation;

/// <summary>
/// The track view of a sandbox. String fields are never null (unknown → ""): the original lab scripts write them
/// to files and crash on null. sandbox_id is always a string.
/// </summary>
public sealed record TrackSandboxResponse(
    string SandboxId,
    string Name,
    string ExternalId,
    string Status,
    string AllocatedToTrack,
    string TrackName,
    long AllocatedAt,
    long ExpiresAt,
    string SfdcAccountId)
{
    public static TrackSandboxResponse From(Sandbox s) => new(
        s.SandboxId,
        s.Name,
        s.ExternalId,
        s.Status.ToWire(),
        s.AllocatedTo ?? "",
        s.TrackName ?? "",
        s.AllocatedAt,
        s.LeaseExpiresAt,
        s.SfdcAccountId ?? "");
}

public sealed record MarkForDeletionResponse(string SandboxId, string Status, long DeletionRequestedAt)
{
    public static MarkForDeletionResponse From(Sandbox s) => new(s.SandboxId, s.Status.ToWire(), s.DeletionRequestedAt ?? 0);
}

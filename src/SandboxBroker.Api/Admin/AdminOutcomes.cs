using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Admin;

/// <summary>Outcomes of listing, mapped to HTTP in <see cref="AdminResults"/>.</summary>
internal abstract record ListOutcome
{
    private ListOutcome() { }

    /// <summary>One page; <paramref name="Cursor"/> is null on the last page.</summary>
    public sealed record Page(IReadOnlyList<Sandbox> Items, string? Cursor) : ListOutcome;

    /// <summary>A cursor that is garbled, forged, or was issued for other filters (400).</summary>
    public sealed record InvalidCursor : ListOutcome;
}

/// <summary>Outcomes of reading or repairing one sandbox.</summary>
internal abstract record SandboxOutcome
{
    private SandboxOutcome() { }

    public sealed record Ok(Sandbox Sandbox) : SandboxOutcome;

    /// <summary>The action had already happened (release of a sandbox already pending deletion): still 200.</summary>
    public sealed record Repeat(Sandbox Sandbox) : SandboxOutcome;

    /// <summary>No record, or a tombstone (404).</summary>
    public sealed record NotFound : SandboxOutcome;

    /// <summary>The sandbox is in a state the action does not start from (409 INVALID_STATE).</summary>
    public sealed record InvalidState(Sandbox Current, SandboxStatus Required) : SandboxOutcome;
}

/// <summary>A pass over every sandbox in one state (bulk-delete, bulk retry-deletion).</summary>
internal sealed record BulkOutcome(SandboxStatus From, int Changed, long DurationMs, bool DryRun);

internal sealed record RegistrationOutcome(int Created, IReadOnlyList<string> SkippedIds);

/// <summary>The result of reading the registration body: sandboxes to register, or why the body was refused.</summary>
internal abstract record RegistrationBodyOutcome
{
    private RegistrationBodyOutcome() { }

    public sealed record Valid(IReadOnlyList<UpstreamSandbox> Sandboxes) : RegistrationBodyOutcome;

    /// <summary>400 VALIDATION_ERROR, 413 PAYLOAD_TOO_LARGE or 415 UNSUPPORTED_MEDIA_TYPE.</summary>
    public sealed record Refused(int Status, string Detail) : RegistrationBodyOutcome;
}

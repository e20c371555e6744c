namespace SandboxBroker.Api.Sandboxes;

/// <summary>A sandbox as the CSP lists it (or as an operator registers it).</summary>
public sealed record UpstreamSandbox(
    string SandboxId,
    string Name,
    string ExternalId,
    long CreatedAt,
    string? SfdcAccountId);

using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Csp;

/// <summary>
/// One complete read of the CSP account list, every page of it. <see cref="Active"/> is the pool: the active sandbox
/// accounts. <see cref="Listed"/> holds every id (external_id and csp_id) of every row in any type or state, for the
/// decisions that must not take an account CSP still knows, in whatever state, for one that is gone: tombstone
/// removal (SPEC 11.3; a removed id that CSP lists again would come back through sync as a new sandbox).
/// </summary>
public sealed record UpstreamListing(IReadOnlyList<UpstreamSandbox> Active, IReadOnlySet<string> Listed)
{
    public static UpstreamListing Empty { get; } = new([], new HashSet<string>(StringComparer.Ordinal));

    /// <summary>Whether CSP lists this sandbox, by sandbox id or external id, in any state.</summary>
    public bool Lists(Sandbox sandbox) => Listed.Contains(sandbox.SandboxId) || Listed.Contains(sandbox.ExternalId);

    /// <summary>A listing of active accounts only (the simulated CSP has no other states).</summary>
    public static UpstreamListing OfActive(IReadOnlyList<UpstreamSandbox> active)
    {
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var sandbox in active)
        {
            listed.Add(sandbox.SandboxId);
            listed.Add(sandbox.ExternalId);
        }

        return new UpstreamListing(active, listed);
    }
}

using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Testing;

/// <summary>The actor of changes a test makes directly on a store (setting up a pool, claiming as a participant).</summary>
public static class TestCause
{
    public static readonly ChangeCause Setup = new("test:setup");
}

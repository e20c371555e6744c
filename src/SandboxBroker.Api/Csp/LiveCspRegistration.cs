namespace SandboxBroker.Api.Csp;

/// <summary>DI wiring of the live CSP client (Csp:Mode=Live).</summary>
internal static class LiveCspRegistration
{
    public static void Register(IServiceCollection services) =>
        throw new InvalidOperationException("The live CSP client is not available in this build yet.");
}

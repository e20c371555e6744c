namespace SandboxBroker.Api.Csp;

/// <summary>
/// Csp:Mode: explicit when set; otherwise Live when a token is set, Simulated on the embedded
/// store without a token. On DynamoDB in Production the mode must be set explicitly; Live without a token
/// refuses to start.
/// </summary>
internal static class CspModeSelection
{
    public static string Choose(CspOptions options, bool embeddedStore, IHostEnvironment environment)
    {
        var hasToken = !string.IsNullOrWhiteSpace(options.Token);
        string mode;
        if (!string.IsNullOrWhiteSpace(options.Mode))
        {
            mode = options.Mode.Trim() switch
            {
                var m when m.Equals(CspOptions.LiveMode, StringComparison.OrdinalIgnoreCase) => CspOptions.LiveMode,
                var m when m.Equals(CspOptions.SimulatedMode, StringComparison.OrdinalIgnoreCase) => CspOptions.SimulatedMode,
                var m => throw new InvalidOperationException($"Csp:Mode must be '{CspOptions.LiveMode}' or '{CspOptions.SimulatedMode}', not '{m}'."),
            };
        }
        else if (hasToken)
        {
            mode = CspOptions.LiveMode;
        }
        else if (!embeddedStore && environment.IsProduction())
        {
            throw new InvalidOperationException(
                "Csp:Mode must be set explicitly in Production on DynamoDB: Csp__Mode=Live (with Csp:Token / CSP_API_TOKEN) or Csp__Mode=Simulated.");
        }
        else
        {
            mode = CspOptions.SimulatedMode;
        }

        if (mode == CspOptions.LiveMode && !hasToken)
        {
            throw new InvalidOperationException("Csp:Mode=Live needs a CSP token: set Csp:Token (or CSP_API_TOKEN).");
        }

        return mode;
    }
}

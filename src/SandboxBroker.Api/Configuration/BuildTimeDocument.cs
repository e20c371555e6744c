using System.Reflection;
using System.Security.Cryptography;

namespace SandboxBroker.Api.Configuration;

/// <summary>
/// The build runs the app's entry point once to write the OpenAPI document (Microsoft.Extensions.ApiDescription.Server,
/// through its GetDocument.Insider tool); the host is built, never started. That run has no environment of its own,
/// so it gets the embedded defaults (a throw-away SQLite file, simulated CSP, no jobs, random tokens): the document
/// depends only on the endpoints, never on the store or the tokens.
/// </summary>
internal static class BuildTimeDocument
{
    public static bool IsRunning { get; } = Assembly.GetEntryAssembly()?.GetName().Name == "GetDocument.Insider";

    public static void UseDocumentDefaults(this IHostApplicationBuilder builder)
    {
        if (!IsRunning)
        {
            return;
        }

        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "Sqlite",
            ["Storage:Sqlite:Path"] = Path.Combine(Path.GetTempPath(), $"sandbox-broker-openapi-{Environment.ProcessId}.db"),
            ["Csp:Mode"] = "Simulated",
            ["Jobs:Enabled"] = "false",
            // Nobody calls this host; random tokens satisfy the production rules and are thrown away with it.
            ["Broker:TrackTokens:0"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)),
            ["Broker:AdminTokens:0"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)),
        });
    }
}

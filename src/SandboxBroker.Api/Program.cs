using SandboxBroker.Api.Admin;
using SandboxBroker.Api.Allocation;
using SandboxBroker.Api.Capacity;
using SandboxBroker.Api.Configuration;
using SandboxBroker.Api.OperatorConsole;
using SandboxBroker.Api.Csp;
using SandboxBroker.Api.Http;
using SandboxBroker.Api.Invariants;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Workers;

if (ContainerProbe.IsRequested(args))
{
    return await ContainerProbe.RunAsync(args);            // the image's health check: GET /healthz, exit 0 or 1
}

try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.Configuration.AddLegacyEnvironmentAliases();   // the original's environment names
    builder.UseDocumentDefaults();                         // only when the build writes the OpenAPI document
    var basePath = builder.Configuration.BasePath();

    builder.AddBrokerLogging();                            // Serilog JSON lines on stdout
    builder.AddBrokerTracing();                            // OpenTelemetry traces over OTLP, when Telemetry:OtlpEndpoint is set
    builder.AddBrokerOptions();                            // typed options, validated at start
    var store = builder.AddStorage();                      // SQLite (embedded) or DynamoDB
    builder.AddCsp(store.IsEmbedded);                      // Simulated or Live CSP (Simulated by default on the embedded store)
    builder.Services.AddAllocation();                      // allocation domain
    builder.Services.AddCapacity();                        // capacity and exhaustion forecast
    builder.AddWorkers();                                  // sync, cleanup, expiry, purge, invariants
    builder.AddAdmin();                                    // operator API
    builder.AddInvariants();                               // invariant checks (API, metric, job)
    builder.AddEdge();                                     // problem details, auth, limits
    builder.AddObservability();                            // metrics, probes, OpenAPI

    var app = builder.Build();

    app.UseEdgeBeforeRouting();                            // X-Request-ID, security headers, HTTP metrics, problem details
    app.UseBrokerRequestLogging();                         // one JSON line per request
    app.UseBrokerCors();                                   // CORS (before authentication, so preflights need no token)
    app.UseHeadAsGet();                                    // HEAD answers wherever GET does, without a body
    app.UseRouting();
    app.UseAuthentication();
    app.UseAuthorization();
    app.UseEdgeAfterAuthorization();                       // rate limiting

    app.MapProbes(basePath);                               // /healthz, /readyz, /
    app.MapMetricsEndpoint();                              // /metrics
    app.MapTrackApi(basePath);                             // /v1/allocate, /v1/sandboxes/...
    app.MapCapacity(basePath);                             // /v1/capacity (track and admin tokens)
    var admin = app.MapAdminApi(basePath);                 // /v1/admin/...
    admin.MapInvariants();                                 // /v1/admin/invariants
    app.MapDocs(basePath);                                 // /v1/openapi.json, /v1/docs
    app.MapConsole(basePath);                              // /console/ (operator console, embedded files)

    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (ex is not HostAbortedException)
{
    // A configuration error must say what to fix, even before logging is set up.
    await Console.Error.WriteLineAsync($"SandboxBroker failed to start: {StartupError.Describe(ex)}");
    return 1;
}

public partial class Program;

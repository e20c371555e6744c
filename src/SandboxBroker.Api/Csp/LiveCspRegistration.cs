using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SandboxBroker.Api.Observability;

namespace SandboxBroker.Api.Csp;

/// <summary>DI wiring of the live CSP client (Csp:Mode=Live).</summary>
internal static class LiveCspRegistration
{
    /// <summary>HttpClient.Timeout is only a backstop on the real clock; the pipeline's timeout fires first.</summary>
    private static readonly TimeSpan BackstopMargin = TimeSpan.FromSeconds(5);

    public static void Register(IServiceCollection services)
    {
        services.TryAddSingleton<CspCircuit>();
        services.AddReadinessCheck<CspCircuitReadinessCheck>("csp");

        // The provider is held by singletons (sync, cleanup), so the handler is long-lived and recycles its
        // connections itself (PooledConnectionLifetime) instead of relying on the factory's handler rotation.
        services.AddHttpClient<ICspProvider, LiveCspProvider>((sp, http) =>
            {
                var options = sp.GetRequiredService<IOptions<CspOptions>>().Value;
                http.BaseAddress = BaseAddressOf(options.BaseUrl);
                http.Timeout = options.RequestTimeout + BackstopMargin;
                http.DefaultRequestHeaders.UserAgent.ParseAdd("SandboxBroker/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                ConnectTimeout = sp.GetRequiredService<IOptions<CspOptions>>().Value.ConnectTimeout,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                AutomaticDecompression = System.Net.DecompressionMethods.All,
                AllowAutoRedirect = false,
            })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
    }

    /// <summary>Relative paths (current_user/accounts) must extend the base path (/v2), so it ends with a slash.</summary>
    internal static Uri BaseAddressOf(string baseUrl) => new(baseUrl.TrimEnd('/') + "/", UriKind.Absolute);
}

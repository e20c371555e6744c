using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace SandboxBroker.Api.NiosXaas;

internal static class NiosXaasExtensions
{
    /// <summary>HttpClient.Timeout is only a backstop; the pipeline's timeout fires first.</summary>
    private static readonly TimeSpan BackstopMargin = TimeSpan.FromSeconds(5);

    /// <summary>The NIOSXaaS pre-delete step: options (validated at start), its own circuit and HTTP client.</summary>
    public static IServiceCollection AddNiosXaas(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NiosXaasOptions>, NiosXaasOptionsValidator>());
        services.AddOptions<NiosXaasOptions>()
            .BindConfiguration(NiosXaasOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton<NiosXaasCircuit>();
        services.TryAddSingleton<NiosXaasCleanup>();
        services.AddHttpClient<NiosXaasClient>((sp, http) =>
            {
                var options = sp.GetRequiredService<IOptions<NiosXaasOptions>>().Value;
                http.BaseAddress = new Uri(options.BaseUrl.TrimEnd('/') + "/", UriKind.Absolute);
                http.Timeout = options.Timeout + BackstopMargin;
                http.DefaultRequestHeaders.UserAgent.ParseAdd("SandboxBroker/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(10),
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                AutomaticDecompression = System.Net.DecompressionMethods.All,
                AllowAutoRedirect = false,
            })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        return services;
    }
}

using System.Globalization;

namespace SandboxBroker.Api.Observability;

/// <summary>
/// `dotnet SandboxBroker.Api.dll --probe [path]`: the container health check of an image without a shell or curl
/// (the chiseled ASP.NET base). GETs http://127.0.0.1:&lt;port&gt;&lt;path&gt; (default /healthz; port: the first of
/// ASPNETCORE_HTTP_PORTS, else 8080) and exits 0 on 200, 1 on anything else or no answer within 3 s. It builds no
/// host: nothing of the broker's configuration is read or validated.
/// </summary>
internal static class ContainerProbe
{
    public const string Flag = "--probe";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public static bool IsRequested(string[] args) => args.Length > 0 && args[0] == Flag;

    public static async Task<int> RunAsync(string[] args)
    {
        var path = args.Length > 1 && args[1].StartsWith('/') ? args[1] : "/healthz";
        var url = new Uri($"http://127.0.0.1:{Port()}{path}");
        try
        {
            using var http = new HttpClient { Timeout = Timeout };
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
            await Console.Out.WriteLineAsync($"probe {url}: {(int)response.StatusCode}");
            return response.StatusCode == System.Net.HttpStatusCode.OK ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await Console.Out.WriteLineAsync($"probe {url}: {ex.Message}");
            return 1;
        }
    }

    private static int Port()
    {
        var ports = Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS") ?? "";
        var first = ports.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        return int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536 ? port : 8080;
    }
}

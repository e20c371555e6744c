using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace SandboxBroker.Tests.Infrastructure;

/// <summary>
/// A real broker host on Kestrel (127.0.0.1, a free port) over real HTTP, on its own SQLite file by default.
/// Settings are passed with UseSetting so Program.cs sees them while it registers services. Tests add or
/// override settings with <see cref="With"/> and replace services with <see cref="WithServices"/> before first use.
/// </summary>
public sealed class BrokerFactory : WebApplicationFactory<Program>
{
    public const string TrackToken = "test-track-token-0123456789";
    public const string AdminToken = "test-admin-token-0123456789";

    private readonly Dictionary<string, string?> settings;
    private readonly List<Action<IServiceCollection>> serviceOverrides = [];
    private readonly string directory = Path.Combine(Path.GetTempPath(), "sbx-tests", Guid.NewGuid().ToString("N"));

    public BrokerFactory()
    {
        Directory.CreateDirectory(directory);
        settings = new Dictionary<string, string?>
        {
            ["Broker:TrackTokens:0"] = TrackToken,
            ["Broker:AdminTokens:0"] = AdminToken,
            ["Storage:Provider"] = "Sqlite",
            ["Storage:Sqlite:Path"] = Path.Combine(directory, "broker.db"),
            ["Csp:Mode"] = "Simulated",
            ["Csp:Simulated:PoolSize"] = "20",
            ["Jobs:Enabled"] = "false",
            ["Logging:MinimumLevel"] = "Warning",
        };
        UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, 0));
    }

    public string DataDirectory => directory;

    /// <summary>Overrides a configuration key (colon form) before the host starts.</summary>
    public BrokerFactory With(string key, string? value)
    {
        settings[key] = value;
        return this;
    }

    /// <summary>Replaces services before the host starts (e.g. a FakeTimeProvider).</summary>
    public BrokerFactory WithServices(Action<IServiceCollection> configure)
    {
        serviceOverrides.Add(configure);
        return this;
    }

    public BrokerFactory WithTime(TimeProvider time) => WithServices(s => s.Replace(ServiceDescriptor.Singleton(time)));

    /// <summary>Testing by default; Production to check the start-up guards.</summary>
    public string Environment { get; set; } = "Testing";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(Environment);
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(services =>
        {
            foreach (var configure in serviceOverrides)
            {
                configure(services);
            }
        });
    }

    /// <summary>An HTTP client over the real socket, with a track token.</summary>
    public HttpClient TrackClient() => ClientWith(TrackToken);

    public HttpClient AdminClient() => ClientWith(AdminToken);

    public HttpClient AnonymousClient() => ClientWith(null);

    /// <summary>An HTTP client over the real socket with this bearer token (none when null).</summary>
    public HttpClient ClientWith(string? token)
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>The Kestrel address the broker listens on (http://127.0.0.1:port/).</summary>
    public Uri BaseAddress
    {
        get
        {
            StartServer();
            var addresses = base.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
                .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!;
            return new Uri(addresses.Addresses.First().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal) + "/");
        }
    }

    public T Get<T>() where T : notnull
    {
        StartServer();
        return base.Services.GetRequiredService<T>();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // a file still open by a pooled connection: the OS temp cleaner removes it later
        }
    }
}

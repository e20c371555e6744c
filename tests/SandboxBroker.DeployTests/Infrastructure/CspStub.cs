using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SandboxBroker.DeployTests.Infrastructure;

/// <summary>deploy/csp-stub/csp_stub.py (the compose stack's CSP stand-in) on a free loopback port.</summary>
public sealed class CspStub : IAsyncLifetime
{
    public const string Token = "deploy-tests-csp-token";
    public const int Sandboxes = 12;

    private readonly List<string> errors = [];
    private Process? process;

    /// <summary>What the stub wrote to stderr (Python tracebacks): for failure messages.</summary>
    public string Errors
    {
        get
        {
            lock (errors)
            {
                return string.Join('\n', errors);
            }
        }
    }

    public Uri Root { get; private set; } = new("http://127.0.0.1/");

    /// <summary>The base URL the broker uses (Csp:BaseUrl).</summary>
    public Uri BaseUrl => new(Root, "v2");

    public async Task InitializeAsync()
    {
        var port = FreePort();
        var info = new ProcessStartInfo("python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Repo.PathOf("deploy", "csp-stub", "csp_stub.py"));
        info.Environment["CSP_STUB_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["CSP_STUB_TOKEN"] = Token;
        info.Environment["CSP_STUB_SANDBOXES"] = Sandboxes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["CSP_STUB_NAME_PREFIX"] = "stub";
        info.Environment["PYTHONUNBUFFERED"] = "1";
        process = Process.Start(info) ?? throw new InvalidOperationException("python3 did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (errors) { errors.Add(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Root = new Uri($"http://127.0.0.1:{port}/");

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(process.HasExited, "the CSP stub exited at start");
            try
            {
                if ((await client.GetAsync(new Uri(Root, "healthz"))).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException)
            {
                // not answering yet
            }

            await Task.Delay(100);
        }

        Assert.Fail("the CSP stub did not answer /healthz within 20 s");
    }

    public Task DisposeAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }

        process?.Dispose();
        return Task.CompletedTask;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

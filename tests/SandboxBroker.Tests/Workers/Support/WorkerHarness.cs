using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SandboxBroker.Api.Configuration;
using SandboxBroker.Api.Csp;
using SandboxBroker.Api.NiosXaas;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Storage.Sqlite;
using SandboxBroker.Api.Workers;
using SandboxBroker.Api.Workers.Cleanup;
using SandboxBroker.Api.Workers.Expiry;
using SandboxBroker.Api.Workers.Runner;
using SandboxBroker.Api.Workers.StalePurge;
using SandboxBroker.Api.Workers.Sync;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Workers.Support;

/// <summary>
/// The job services wired as the app wires them (live CSP client against a <see cref="FakeCspServer"/> over real
/// HTTP, a SQLite store on a temp file, a <see cref="FakeTimeProvider"/> for every clock, timer and delay), without
/// a web host, so each test drives passes with RunOnceAsync and moves time itself.
/// </summary>
internal sealed class WorkerHarness : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2025, 6, 1, 8, 0, 0, TimeSpan.Zero);

    private readonly string directory;
    private readonly bool ownsCsp;

    private WorkerHarness(FakeCspServer csp, bool ownsCsp, FakeTimeProvider time, SqliteSandboxStore store, string directory, ServiceProvider services, FakeLogCollector logs, string dbPath)
    {
        DbPath = dbPath;
        Csp = csp;
        this.ownsCsp = ownsCsp;
        Time = time;
        Store = store;
        this.directory = directory;
        Services = services;
        Logs = logs;
    }

    public FakeCspServer Csp { get; }
    public FakeTimeProvider Time { get; }
    public SqliteSandboxStore Store { get; }
    public ServiceProvider Services { get; }
    /// <summary>Every log record of the job services (Debug and up), for asserting that an operator was warned.</summary>
    public FakeLogCollector Logs { get; }

    /// <summary>The SQLite file, for a second store instance (another "process") on the same data.</summary>
    public string DbPath { get; }

    public static async Task<WorkerHarness> StartAsync(
        int sandboxes = 20, IDictionary<string, string?>? settings = null, FakeCspServer? csp = null, string? storePath = null,
        bool ownsCspServer = false)
    {
        var ownsCsp = csp is null || ownsCspServer;
        csp ??= await FakeCspServer.StartAsync(sandboxes);
        var directory = Path.Combine(Path.GetTempPath(), "sbx-worker-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var dbPath = storePath ?? Path.Combine(directory, "broker.db");
        var store = new SqliteSandboxStore(dbPath);
        await store.InitializeAsync(CancellationToken.None);

        var values = new Dictionary<string, string?>
        {
            ["Csp:BaseUrl"] = csp.BaseUrl,
            ["Csp:Token"] = csp.Token,
            ["Csp:RequestTimeout"] = "00:00:03",
            ["Jobs:Cleanup:BatchDelay"] = "00:00:00",
            ["Jobs:Cleanup:PerSandboxDelay"] = "00:00:00",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var time = new FakeTimeProvider(Start);
        var logs = new FakeLogCollector();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Debug));
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton<BrokerMetrics>();
        services.AddOptions<CspOptions>().Bind(configuration.GetSection(CspOptions.SectionName)).ValidateDataAnnotations();
        services.AddOptions<JobsOptions>().Bind(configuration.GetSection(JobsOptions.SectionName)).ValidateDataAnnotations();
        services.AddOptions<BrokerOptions>().Bind(configuration.GetSection(BrokerOptions.SectionName));
        services.AddSingleton<ISandboxStore>(store);
        LiveCspRegistration.Register(services);
        services.AddSingleton<IConfiguration>(configuration);
        services.AddNiosXaas();
        services.AddSingleton<ReadinessState>();
        services.AddSingleton(new JobInstance("harness"));
        services.AddSingleton<JobRunner>();
        services.AddSingleton<SyncService>();
        services.AddSingleton<CleanupService>();
        services.AddSingleton<ExpiryService>();
        services.AddSingleton<StalePurgeService>();
        return new WorkerHarness(csp, ownsCsp, time, store, directory, services.BuildServiceProvider(), logs, dbPath);
    }

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    public JobsOptions JobsOptions => Get<IOptions<JobsOptions>>().Value;

    /// <summary>A cleanup service whose CSP calls go through <paramref name="csp"/> (e.g. a <see cref="CheckingCsp"/>).</summary>
    public CleanupService CleanupWith(ICspProvider csp) => ActivatorUtilities.CreateInstance<CleanupService>(Services, csp);

    /// <summary>Another instance's runner (its own owner id, gates and lease), on this store or on <paramref name="store"/>.</summary>
    public JobRunner RunnerFor(string owner, ISandboxStore? store = null) => store is null
        ? ActivatorUtilities.CreateInstance<JobRunner>(Services, new JobInstance(owner))
        : ActivatorUtilities.CreateInstance<JobRunner>(Services, new JobInstance(owner), store);

    /// <summary>Moves the fake clock in small steps (letting timers and polls run) until <paramref name="task"/> ends.</summary>
    public async Task<T> AdvanceUntilAsync<T>(Task<T> task, TimeSpan step, int maxSteps = 400)
    {
        for (var i = 0; i < maxSteps && !task.IsCompleted; i++)
        {
            await Task.Delay(5);
            Time.Advance(step);
        }

        return await task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    public Task<SyncResult> SyncAsync() => Get<SyncService>().RunOnceAsync(CancellationToken.None);

    /// <summary>Allocates <paramref name="count"/> available sandboxes, each to its own participant.</summary>
    public async Task<List<Sandbox>> AllocateAsync(int count)
    {
        var picked = new List<Sandbox>();
        await foreach (var sandbox in Store.ScanByStatusAsync(SandboxStatus.Available, CancellationToken.None))
        {
            if (picked.Count == count)
            {
                break;
            }

            picked.Add(sandbox);
        }

        var now = Time.NowEpochSeconds();
        var allocated = new List<Sandbox>();
        foreach (var sandbox in picked)
        {
            var requester = "participant-" + sandbox.SandboxId;
            var request = new ClaimRequest
            { Cause = TestCause.Setup,
                SandboxId = sandbox.SandboxId,
                Requester = requester,
                IdempotencyKey = requester,
                Now = now,
                ExpiresAt = now + 4 * 3600,
                LabDurationHours = 4,
            };
            var claim = await Store.RunAllocationAsync((session, ct) => session.TryClaimAsync(request, ct), CancellationToken.None);
            allocated.Add(Assert.IsType<ClaimResult.Claimed>(claim).Sandbox);
        }

        return allocated;
    }

    /// <summary>Allocates and marks for deletion, as the lab's stop script does.</summary>
    public async Task<List<Sandbox>> PendingDeletionAsync(int count)
    {
        var marked = new List<Sandbox>();
        foreach (var sandbox in await AllocateAsync(count))
        {
            var now = Time.NowEpochSeconds();
            var change = new StateChange
            { Cause = TestCause.Setup,
                SandboxId = sandbox.SandboxId,
                From = SandboxStatus.Allocated,
                To = SandboxStatus.PendingDeletion,
                Now = now,
                RequireHolder = sandbox.AllocatedTo,
                DeletionRequestedAt = now,
                NextAttemptAt = now,
            };
            marked.Add(Assert.IsType<TransitionResult.Applied>(await Store.TransitionAsync(change, CancellationToken.None)).Sandbox);
        }

        return marked;
    }

    public async Task<Sandbox> GetAsync(string sandboxId) =>
        await Store.GetAsync(sandboxId, CancellationToken.None) ?? throw new InvalidOperationException($"no record {sandboxId}");

    public Task<PoolCounts> CountsAsync() => Store.CountAsync(null, CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        Store.Dispose();
        if (ownsCsp)
        {
            await Csp.DisposeAsync();
        }

        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // a pooled connection still holds the file; the temp cleaner removes it later
        }
    }
}

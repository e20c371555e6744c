using Microsoft.Extensions.DependencyInjection.Extensions;
using SandboxBroker.Api.NiosXaas;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Workers.Cleanup;
using SandboxBroker.Api.Workers.Expiry;
using SandboxBroker.Api.Workers.Invariants;
using SandboxBroker.Api.Workers.Runner;
using SandboxBroker.Api.Workers.StalePurge;
using SandboxBroker.Api.Workers.Sync;

namespace SandboxBroker.Api.Workers;

internal static class WorkersExtensions
{
    /// <summary>
    /// Job services (also used by the admin triggers), the runner that gives each job one pass per period
    /// cluster-wide, and, unless Jobs:Enabled=false, one BackgroundService per job.
    /// </summary>
    public static IHostApplicationBuilder AddWorkers(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<JobsOptions>()
            .BindConfiguration(JobsOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<ReadinessState>();
        services.AddReadinessCheck<FirstSyncReadinessCheck>("sync");
        services.TryAddSingleton(JobInstance.Create());
        services.AddSingleton<JobRunner>();
        services.AddHostedService<JobRunnerShutdown>();
        services.AddSingleton<JobTriggers>();

        services.AddNiosXaas();                  // the cleanup's pre-delete step (SPEC 12)
        services.AddSingleton<SyncService>();
        services.AddSingleton<CleanupService>();
        services.AddSingleton<ExpiryService>();
        services.AddSingleton<StalePurgeService>();

        var enabled = builder.Configuration.GetSection(JobsOptions.SectionName).GetValue("Enabled", true);
        services.AddJob<SyncJob>(enabled);
        services.AddJob<CleanupJob>(enabled);
        services.AddJob<ExpiryJob>(enabled);
        services.AddJob<StalePurgeJob>(enabled);
        services.AddJob<InvariantsJob>(enabled); // the checker itself is registered by AddInvariants
        Reservations.ReservationApi.AddReservations(services);
        services.AddJob<Reservations.ReservationsJob>(enabled);
        return builder;
    }

    /// <summary>
    /// Registers a periodic job: listed by GET /admin/jobs always, run by its own worker when jobs are enabled.
    /// Other features can add theirs the same way (an <see cref="IBrokerJob"/> and this call).
    /// </summary>
    public static IServiceCollection AddJob<TJob>(this IServiceCollection services, bool runWorker)
        where TJob : class, IBrokerJob
    {
        services.AddSingleton<TJob>();
        services.AddSingleton<IBrokerJob>(sp => sp.GetRequiredService<TJob>());
        if (runWorker)
        {
            services.AddHostedService<JobWorker<TJob>>();
        }

        return services;
    }
}

using SandboxBroker.Api.Workers.Sync;

namespace SandboxBroker.Api.Workers;

internal static class WorkersExtensions
{
    /// <summary>Job services (also used by the admin triggers) and, unless Jobs:Enabled=false, their workers.</summary>
    public static IHostApplicationBuilder AddWorkers(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<JobsOptions>()
            .BindConfiguration(JobsOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<ReadinessState>();
        builder.Services.AddSingleton<SyncService>();

        var enabled = builder.Configuration.GetSection(JobsOptions.SectionName).GetValue("Enabled", true);
        if (enabled)
        {
            builder.Services.AddHostedService<SyncWorker>();
        }

        return builder;
    }
}

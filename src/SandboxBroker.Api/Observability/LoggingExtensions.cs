using Serilog;
using Serilog.Events;

namespace SandboxBroker.Api.Observability;

internal static class LoggingExtensions
{
    /// <summary>Serilog owns the pipeline: JSON lines on stdout, level from Logging:MinimumLevel (or LOG_LEVEL).</summary>
    public static IHostApplicationBuilder AddBrokerLogging(this IHostApplicationBuilder builder)
    {
        var level = Enum.TryParse<LogEventLevel>(builder.Configuration["Logging:MinimumLevel"], ignoreCase: true, out var parsed)
            ? parsed
            : LogEventLevel.Information;
        // preserveStaticLogger: the static Log.Logger stays untouched, so several hosts in one process (the tests)
        // never write through each other's logger; the request logger below is handed this host's logger.
        builder.Services.AddSerilog((services, lc) => lc
            .MinimumLevel.Is(level)
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Extensions.Http", LogEventLevel.Warning)
            .MinimumLevel.Override("System.Net.Http", LogEventLevel.Warning)
            .MinimumLevel.Override("Polly", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
            .MinimumLevel.Override("Microsoft.AspNetCore.DataProtection", LogEventLevel.Error)
            .MinimumLevel.Override(typeof(Http.TokenAuthenticationHandler).FullName!, LogEventLevel.Warning)
            .Enrich.FromLogContext()
            .ReadFrom.Services(services)                   // sinks and enrichers registered in DI (tests add a capturing sink)
            .WriteTo.Console(new JsonLogFormatter()), preserveStaticLogger: true);
        return builder;
    }

    /// <summary>
    /// One line per request: action ("POST /v1/allocate"), status, outcome, latency_ms, track_id (the requester)
    /// and sandbox_id when the route has one. 5xx are errors, 409/429 warnings, the rest information.
    /// Headers are never logged, so tokens never reach the logs.
    /// </summary>
    public static IApplicationBuilder UseBrokerRequestLogging(this IApplicationBuilder app) =>
        app.UseSerilogRequestLogging(options =>
        {
            options.Logger = app.ApplicationServices.GetRequiredService<Serilog.ILogger>();
            options.MessageTemplate = "{action:l} - {status_code} in {latency_ms} ms";
            options.IncludeQueryInRequestPath = false;
            options.GetLevel = (context, _, exception) =>
                exception is not null || context.Response.StatusCode >= 500 ? LogEventLevel.Error
                : context.Response.StatusCode is 409 or 429 ? LogEventLevel.Warning
                : context.Request.Path.StartsWithSegments("/metrics") || context.Request.Path.StartsWithSegments("/healthz")
                    || context.Request.Path.StartsWithSegments("/readyz") ? LogEventLevel.Debug
                : LogEventLevel.Information;
            options.EnrichDiagnosticContext = (diagnostics, context) =>
            {
                var status = context.Response.StatusCode;
                diagnostics.Set("action", $"{context.Request.Method} {context.Request.Path}");
                diagnostics.Set("status_code", status);
                diagnostics.Set("outcome", status < 400 ? "success" : status < 500 ? "rejected" : "error");
                var requester = context.Request.Headers["X-Instruqt-Sandbox-ID"].ToString();
                if (requester.Length == 0)
                {
                    requester = context.Request.Headers["X-Track-ID"].ToString();
                }

                if (Http.InputRules.IsValidId(requester))
                {
                    diagnostics.Set("track_id", requester);
                }

                var instruqtTrack = context.Request.Headers["X-Instruqt-Track-ID"].ToString();
                if (Http.InputRules.IsValidId(instruqtTrack))
                {
                    diagnostics.Set("instruqt_track_id", instruqtTrack);
                }

                if (context.Request.RouteValues.TryGetValue("sandboxId", out var id) && id is string sandboxId && Http.InputRules.IsValidId(sandboxId))
                {
                    diagnostics.Set("sandbox_id", sandboxId);
                }
            };
        }).Use(async (context, next) =>
        {
            // latency_ms as a plain number for metric filters; set once the response is complete (also on an
            // exception), which is before the request logger writes its line.
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                await next(context);
            }
            finally
            {
                context.RequestServices.GetService<IDiagnosticContext>()?.Set(
                    "latency_ms", Math.Round(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, 2));
            }
        });
}

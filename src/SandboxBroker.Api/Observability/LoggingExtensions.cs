using System.Collections.Concurrent;
using System.Text;
using Serilog;
using Serilog.Core;
using Serilog.Debugging;
using Serilog.Events;
using Serilog.Formatting;

namespace SandboxBroker.Api.Observability;

internal static class LoggingExtensions
{
    /// <summary>
    /// Serilog owns the pipeline: JSON lines on stdout (through <see cref="BufferedStdoutSink"/>, so requests never wait
    /// on the log pipe), level from Logging:MinimumLevel (or LOG_LEVEL). Serilog's own configuration section is read
    /// last, so one namespace's level can be raised at 2 a.m. without a rebuild, e.g.
    /// Serilog__MinimumLevel__Override__SandboxBroker.Api.Csp=Debug.
    /// </summary>
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
            .ReadFrom.Configuration(builder.Configuration)  // the "Serilog" section, when present
            .Enrich.FromLogContext()
            .ReadFrom.Services(services)                   // sinks and enrichers registered in DI (tests add a capturing sink)
            .WriteTo.Sink(new BufferedStdoutSink(BrokerLogFormat.Create())), preserveStaticLogger: true);
        CategoryCachingLoggerFactory.Decorate(builder.Services);
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
            // Not Serilog's RequestMethod, RequestPath, StatusCode and Elapsed: action, status_code and latency_ms say
            // the same, and four more properties per request were garbage to collect (BENCHMARKS.md, issue 20). The
            // RequestPath a line still carries is the hosting log scope's.
            options.GetMessageTemplateProperties = static (_, _, _, _) => [];
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
                diagnostics.Set("client_ip", context.Connection.RemoteIpAddress?.ToString());
                if (context.User.FindFirst(Http.BrokerRoles.TokenNameClaim)?.Value is { } token)
                {
                    diagnostics.Set("token", token); // the token's name, never its secret
                }
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

/// <summary>
/// JSON lines to stdout from one background writer. Request threads only enqueue the event (formatting and the write
/// happen on the writer), so a request never waits on the pipe to the log driver — unless 20,000 lines are already
/// waiting, and then it waits rather than drop a line. The writer formats everything queued into one buffer, writes it
/// in as few writes as it fills, and flushes whenever the queue is empty, so a quiet broker's lines appear at once and
/// a busy one's go out in large writes. Disposing (host shutdown) writes what is left; a line logged after that is
/// written directly. With the synchronous console sink, every request took a lock and made a write system call and a
/// pipe wake-up of the log reader while holding it; under a burst that serialised the requests on stdout.
/// </summary>
internal sealed class BufferedStdoutSink : ILogEventSink, IDisposable
{
    private const int Capacity = 20_000;
    private const int MaxPerFlush = 1_000;
    private readonly ITextFormatter formatter;
    private readonly BlockingCollection<LogEvent> queue = new(new ConcurrentQueue<LogEvent>(), Capacity);
    private readonly StreamWriter output;
    private readonly Lock outputLock = new();
    private readonly Thread writer;
    private readonly StringWriter line = new(System.Globalization.CultureInfo.InvariantCulture);

    public BufferedStdoutSink(ITextFormatter formatter, Stream? stdout = null)
    {
        this.formatter = formatter;
        Stream? stream = null;
        try
        {
            stream = stdout ?? Console.OpenStandardOutput();
            output = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 64 * 1024) { AutoFlush = false };
            stream = null; // the writer owns it now
        }
        finally
        {
            stream?.Dispose();
        }

        writer = new Thread(WriteQueued) { IsBackground = true, Name = "stdout log writer" };
        writer.Start();
    }

    public void Emit(LogEvent logEvent)
    {
        if (!queue.IsAddingCompleted)
        {
            try
            {
                queue.Add(logEvent);
                return;
            }
            catch (InvalidOperationException)
            {
                // disposed meanwhile: write it directly below
            }
        }

        lock (outputLock)
        {
            Write(logEvent);
            Flush();
        }
    }

    private void WriteQueued()
    {
        foreach (var logEvent in queue.GetConsumingEnumerable())
        {
            lock (outputLock)
            {
                Write(logEvent);
                for (var i = 0; i < MaxPerFlush && queue.TryTake(out var next); i++)
                {
                    Write(next);
                }

                Flush();
            }
        }
    }

    /// <summary>Formats into a scratch buffer first, so an event that fails to format never leaves half a line.</summary>
    private void Write(LogEvent logEvent)
    {
        var text = line.GetStringBuilder();
        text.Clear();
        try
        {
            formatter.Format(logEvent, line);
            output.Write(text);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            SelfLog.WriteLine("stdout log sink: could not write an event: {0}", ex);
        }
    }

    private void Flush()
    {
        try
        {
            output.Flush();
        }
        catch (IOException ex)
        {
            SelfLog.WriteLine("stdout log sink: could not flush: {0}", ex);
        }
    }

    public void Dispose()
    {
        queue.CompleteAdding();
        writer.Join(TimeSpan.FromSeconds(10));
        lock (outputLock)
        {
            Flush();
        }
    }
}

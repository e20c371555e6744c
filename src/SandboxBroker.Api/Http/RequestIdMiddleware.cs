using Serilog.Context;

namespace SandboxBroker.Api.Http;

/// <summary>
/// Every response carries X-Request-ID: the caller's when it is sane (1-128 of [A-Za-z0-9._:-]), else a new one.
/// The same id becomes HttpContext.TraceIdentifier, so problem bodies and log lines carry it too.
/// </summary>
internal sealed class RequestIdMiddleware(RequestDelegate next)
{
    public const string HeaderName = "X-Request-ID";

    public async Task InvokeAsync(HttpContext context)
    {
        var incoming = context.Request.Headers[HeaderName].ToString();
        var id = IsSane(incoming) ? incoming : Guid.NewGuid().ToString("N");
        context.TraceIdentifier = id;
        context.Response.OnStarting(static state =>
        {
            var ctx = (HttpContext)state;
            ctx.Response.Headers[HeaderName] = ctx.TraceIdentifier;
            return Task.CompletedTask;
        }, context);

        using (LogContext.PushProperty("request_id", id))
        {
            await next(context);
        }
    }

    internal static bool IsSane(string value)
    {
        if (value.Length is 0 or > 128)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}

namespace SandboxBroker.Api.Http;

/// <summary>
/// HEAD answers wherever GET does (RFC 9110 9.3.2; operators probe with <c>curl -I</c>): routing sees the request as
/// GET, so HEAD runs the GET endpoint with its authentication, limits and status code, and the method is HEAD again
/// before the request's log line and metrics are written. The body is never sent: Kestrel drops body writes for a
/// HEAD request whatever the method string says, and the stream below makes that hold for any other server too.
/// </summary>
internal static class HeadRequests
{
    public static IApplicationBuilder UseHeadAsGet(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (!HttpMethods.IsHead(context.Request.Method))
            {
                await next(context);
                return;
            }

            var original = context.Response.Body;
            context.Request.Method = HttpMethods.Get;
            context.Response.Body = Stream.Null;
            try
            {
                await next(context);
            }
            finally
            {
                context.Request.Method = HttpMethods.Head;
                context.Response.Body = original;
            }
        });
}

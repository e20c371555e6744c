namespace SandboxBroker.Api.Http;

/// <summary>
/// Refuses HTTP methods outside the standard set with a 405 problem, before the HTTP metrics count them: the method
/// label stays a small fixed set whatever a client sends.
/// </summary>
internal static class KnownMethods
{
    private static readonly HashSet<string> Standard = new(StringComparer.Ordinal)
    {
        HttpMethods.Get, HttpMethods.Head, HttpMethods.Post, HttpMethods.Put, HttpMethods.Delete,
        HttpMethods.Patch, HttpMethods.Options, HttpMethods.Trace, HttpMethods.Connect,
    };

    public static IApplicationBuilder UseKnownMethodsOnly(this IApplicationBuilder app) =>
        app.Use((context, next) => Standard.Contains(context.Request.Method) ? next(context) : RefuseAsync(context));

    private static Task RefuseAsync(HttpContext context)
    {
        context.Response.Headers.Allow = "GET, HEAD, POST, OPTIONS";
        return Problems.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, ErrorCodes.MethodNotAllowed,
            "This method is not supported.");
    }
}

using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace SandboxBroker.Api.Http;

/// <summary>
/// Security headers on every response the application produces, errors included. They are set when the
/// response starts, so they also land on responses written after the exception handler cleared the headers.
/// HSTS is sent whatever the scheme: TLS ends at the ALB, so the framework's UseHsts would never fire.
/// The Content-Security-Policy is "nothing at all" except on the docs UI ({base}/docs), which gets what the
/// self-hosted Scalar UI needs: its own scripts plus, on its HTML page, the hash of each inline script (computed
/// from the page actually served), injected styles, same-origin fetches of the OpenAPI document and try-it calls.
/// The operator console (/console) gets 'self' for everything: its own files and same-origin API calls, nothing inline.
/// </summary>
internal sealed partial class SecurityHeadersMiddleware(RequestDelegate next, string docsPath)
{
    public const string StrictPolicy = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    private const int MaxDocsPageBytes = 256 * 1024;
    private static readonly string DocsAssetPolicy = DocsPolicy([]);
    private static readonly object PolicyKey = new();

    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        var docs = path.StartsWithSegments(docsPath, StringComparison.OrdinalIgnoreCase, out var rest);
        context.Items[PolicyKey] = docs ? DocsAssetPolicy
            : path.StartsWithSegments(OperatorConsole.ConsoleEndpoints.Path, StringComparison.OrdinalIgnoreCase) ? OperatorConsole.ConsoleEndpoints.Policy
            : StrictPolicy;
        context.Response.OnStarting(static state =>
        {
            var ctx = (HttpContext)state;
            var headers = ctx.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers.StrictTransportSecurity = "max-age=31536000; includeSubDomains";
            headers["Permissions-Policy"] = "geolocation=(), microphone=(), camera=()";
            headers.ContentSecurityPolicy = ctx.Items[PolicyKey] as string ?? StrictPolicy;
            return Task.CompletedTask;
        }, context);

        var page = docs && (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
            && (!rest.HasValue || rest.Value is "/" || rest.Value.Equals("/index.html", StringComparison.OrdinalIgnoreCase));
        return page ? ServeDocsPageAsync(context) : next(context);
    }

    /// <summary>The docs HTML page is small: buffer it to allow exactly its inline scripts by hash.</summary>
    private async Task ServeDocsPageAsync(HttpContext context)
    {
        var original = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = original;
        }

        if (buffer.Length <= MaxDocsPageBytes
            && context.Response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true)
        {
            var html = Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
            context.Items[PolicyKey] = DocsPolicy(InlineScriptHashes(html));
        }

        buffer.Position = 0;
        await buffer.CopyToAsync(original, context.RequestAborted);
    }

    internal static string DocsPolicy(IReadOnlyCollection<string> scriptHashes)
    {
        var scripts = scriptHashes.Count == 0 ? "'self'" : "'self' " + string.Join(' ', scriptHashes.Select(h => $"'sha256-{h}'"));
        return $"default-src 'none'; script-src {scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
               "font-src 'self' data:; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    }

    /// <summary>Base64 SHA-256 of the text of every inline script (a script element without src), as CSP hashes it.</summary>
    internal static List<string> InlineScriptHashes(string html) =>
        InlineScript().Matches(html)
            .Select(m => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(m.Groups["body"].Value))))
            .Distinct(StringComparer.Ordinal)
            .ToList();

    [GeneratedRegex(@"<script(?![^>]*\bsrc\s*=)[^>]*>(?<body>.*?)</script\s*>", RegexOptions.Singleline | RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex InlineScript();
}

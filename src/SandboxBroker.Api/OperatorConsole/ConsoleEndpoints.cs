using System.Reflection;
using System.Security.Cryptography;

namespace SandboxBroker.Api.OperatorConsole;

/// <summary>
/// The operator console at /console/: plain HTML, CSS and JavaScript modules embedded in this assembly (no CDN, no
/// build step at run time). It lives outside the base path because a browser cannot send a bearer token on
/// navigation: the page holds no secret and calls {base}/admin/* with the token the operator types in.
/// </summary>
internal static class ConsoleEndpoints
{
    public const string Path = "/console";

    /// <summary>Only this origin, for everything: scripts, styles, images and the admin API calls.</summary>
    public const string Policy = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private const string ResourcePrefix = "SandboxBroker.Api.OperatorConsole.wwwroot.";

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".svg"] = "image/svg+xml",
    };

    private static readonly Lazy<IReadOnlyDictionary<string, ConsoleFile>> Files = new(LoadFiles);

    public static IEndpointRouteBuilder MapConsole(this IEndpointRouteBuilder app, string basePath)
    {
        // Public: the page holds no secret; the operator's token stays in the browser and goes only to the API.
        app.MapGet(Path + "/{*file}", (string? file, HttpContext context) => Serve(file, basePath, context)).ExcludeFromDescription().AllowAnonymous();
        return app;
    }

    private static IResult Serve(string? file, string basePath, HttpContext context)
    {
        // The page's modules and stylesheet are relative URLs: they need the trailing slash.
        if (!context.Request.Path.Value!.EndsWith('/') && string.IsNullOrEmpty(file))
        {
            return TypedResults.Redirect(Path + "/");
        }

        var name = string.IsNullOrEmpty(file) ? "index.html" : file;
        if (!Files.Value.TryGetValue(name, out var found))
        {
            return TypedResults.NotFound();
        }

        context.Response.Headers.ETag = found.ETag;
        // Revalidate every time: a new broker version must never run against an old module from the cache.
        context.Response.Headers.CacheControl = "no-cache";
        if (context.Request.Headers.IfNoneMatch == found.ETag)
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        var body = name == "index.html" ? found.WithBasePath(basePath) : found.Bytes;
        return TypedResults.Bytes(body, found.ContentType);
    }

    private static Dictionary<string, ConsoleFile> LoadFiles()
    {
        var assembly = typeof(ConsoleEndpoints).Assembly;
        var files = new Dictionary<string, ConsoleFile>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            var name = resource[ResourcePrefix.Length..];
            if (!ContentTypes.TryGetValue(System.IO.Path.GetExtension(name), out var contentType))
            {
                continue;
            }

            files[name] = ConsoleFile.Read(assembly, resource, contentType);
        }

        return files;
    }

    private sealed record ConsoleFile(byte[] Bytes, string ContentType, string ETag)
    {
        public static ConsoleFile Read(Assembly assembly, string resource, string contentType)
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            return new ConsoleFile(bytes, contentType, $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]}\"");
        }

        /// <summary>The page learns the API's base path from a meta tag (Broker:BasePath may differ from /v1).</summary>
        public byte[] WithBasePath(string basePath) =>
            System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(Bytes)
                .Replace("content=\"/v1\"", $"content=\"{System.Net.WebUtility.HtmlEncode(basePath)}\"", StringComparison.Ordinal));
    }
}

namespace SandboxBroker.Cli.Http;

/// <summary>The broker's API root: the given URL, with the default base path /v1 added when the URL has no path.</summary>
internal static class BrokerEndpoint
{
    public const string DefaultBasePath = "/v1";

    /// <summary>The API root ending in "/", or null with a reason when the text is not an http(s) URL.</summary>
    public static Uri? TryParse(string text, out string? error)
    {
        error = null;
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            error = $"--url must be an http or https URL such as http://127.0.0.1:8080 (got '{text}').";
            return null;
        }

        if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            error = "--url must not carry a query, fragment or user info; pass the token with --token or SANDBOX_BROKER_TOKEN.";
            return null;
        }

        var path = uri.AbsolutePath.TrimEnd('/');
        if (path.Length == 0)
        {
            path = DefaultBasePath;
        }

        return new Uri(uri.GetLeftPart(UriPartial.Authority) + path + "/");
    }
}

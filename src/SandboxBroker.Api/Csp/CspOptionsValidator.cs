using System.Net;
using Microsoft.Extensions.Options;

namespace SandboxBroker.Api.Csp;

/// <summary>
/// Live mode in Production talks to CSP over https only: the bearer token must never cross a network in the clear.
/// A stand-in on this host (loopback) is fine; one elsewhere (the compose stack's stub) needs Csp:AllowHttp=true.
/// </summary>
internal sealed class CspOptionsValidator(IHostEnvironment environment) : IValidateOptions<CspOptions>
{
    public ValidateOptionsResult Validate(string? name, CspOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!environment.IsProduction() || options.AllowHttp
            || !Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var url) || url.Scheme == Uri.UriSchemeHttps || IsLoopback(url))
        {
            return ValidateOptionsResult.Success;
        }

        return ValidateOptionsResult.Fail(
            $"Csp:BaseUrl must be https in Production (got {url.Scheme}://{url.Authority}); Csp:AllowHttp=true allows http for a local stand-in");
    }

    private static bool IsLoopback(Uri url) =>
        url.IsLoopback || (IPAddress.TryParse(url.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}

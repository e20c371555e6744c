using Microsoft.Extensions.Options;

namespace SandboxBroker.Api.Configuration;

/// <summary>
/// Token rules that need the environment: in Production the broker refuses to start without tokens or with the
/// development tokens, so a forgotten secret never turns into an open (or publicly known) broker.
/// </summary>
internal sealed class BrokerOptionsValidator(IHostEnvironment environment) : IValidateOptions<BrokerOptions>
{
    public ValidateOptionsResult Validate(string? name, BrokerOptions options)
    {
        var failures = new List<string>();
        CheckTokens(options.TrackTokens, "Broker:TrackTokens (or BROKER_API_TOKEN)", BrokerOptions.DevelopmentTrackToken, failures);
        CheckTokens(options.AdminTokens, "Broker:AdminTokens (or BROKER_ADMIN_TOKEN)", BrokerOptions.DevelopmentAdminToken, failures);
        if (options.TrackTokens.Intersect(options.AdminTokens, StringComparer.Ordinal).Any())
        {
            failures.Add("a token must not be both a track token and an admin token");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private void CheckTokens(List<string> tokens, string setting, string developmentToken, List<string> failures)
    {
        tokens.RemoveAll(string.IsNullOrWhiteSpace);
        if (tokens.Any(t => t.Any(char.IsWhiteSpace) || t.Length > 512))
        {
            failures.Add($"{setting}: tokens must be at most 512 characters without whitespace");
        }

        if (!environment.IsProduction())
        {
            return;
        }

        if (tokens.Count == 0)
        {
            failures.Add($"{setting} is required in Production: set at least one token");
        }
        else if (tokens.Contains(developmentToken, StringComparer.Ordinal)
                 || tokens.Contains(BrokerOptions.DevelopmentTrackToken, StringComparer.Ordinal)
                 || tokens.Contains(BrokerOptions.DevelopmentAdminToken, StringComparer.Ordinal))
        {
            failures.Add($"{setting} holds a development token; set real secrets in Production");
        }
    }
}

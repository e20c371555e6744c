using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using SandboxBroker.Api.Http;

namespace SandboxBroker.Api.Configuration;

/// <summary>
/// Token rules (SPEC 11.3). Everywhere: well-formed list tokens and structured tokens (a role, exactly one of Secret
/// and Sha256, valid hex, prefixes only on track tokens, unique names and secrets). In Production also: at least one
/// token of each role, every secret at least 16 characters, and none of the development or placeholder tokens that
/// ship in this repository, so a forgotten secret never turns into an open (or publicly known) broker.
/// </summary>
internal sealed partial class BrokerOptionsValidator(IHostEnvironment environment) : IValidateOptions<BrokerOptions>
{
    public ValidateOptionsResult Validate(string? name, BrokerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        CheckListed(options.TrackTokens, "Broker:TrackTokens (or BROKER_API_TOKEN)", failures);
        CheckListed(options.AdminTokens, "Broker:AdminTokens (or BROKER_ADMIN_TOKEN)", failures);
        foreach (var (tokenName, token) in options.Tokens)
        {
            CheckStructured(tokenName, token, failures);
        }

        var tokens = TokenDirectory.Build(options);
        if (tokens.GroupBy(t => Convert.ToHexString(t.Digest)).Any(g => g.Count() > 1))
        {
            failures.Add("Broker tokens: one secret is configured for two tokens (or as both a track and an admin token)");
        }

        if (environment.IsProduction())
        {
            CheckProduction(options, tokens, failures);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckListed(List<string> tokens, string setting, List<string> failures)
    {
        tokens.RemoveAll(string.IsNullOrWhiteSpace);
        if (tokens.Any(t => !IsWellFormedSecret(t)))
        {
            failures.Add($"{setting}: tokens must be at most 512 characters without whitespace");
        }
    }

    private static void CheckStructured(string name, TokenOptions token, List<string> failures)
    {
        var setting = $"Broker:Tokens:{name}";
        if (!TokenName().IsMatch(name) || ListFormName().IsMatch(name))
        {
            failures.Add($"{setting}: a token name is 1-64 letters, digits, '.', '_' or '-', and not of the list form's track-N/admin-N");
        }

        var role = token.Role?.Trim().ToLowerInvariant();
        if (role is not (BrokerRoles.Track or BrokerRoles.Admin))
        {
            failures.Add($"{setting}:Role must be 'track' or 'admin' (got '{token.Role}')");
        }

        var hasSecret = !string.IsNullOrEmpty(token.Secret);
        var hasSha = !string.IsNullOrEmpty(token.Sha256);
        if (hasSecret == hasSha)
        {
            failures.Add($"{setting}: set exactly one of Secret and Sha256");
        }
        else if (hasSecret && !IsWellFormedSecret(token.Secret!))
        {
            failures.Add($"{setting}:Secret must be at most 512 characters without whitespace");
        }
        else if (hasSha && !TokenDirectory.TryParseHex(token.Sha256, out _))
        {
            failures.Add($"{setting}:Sha256 must be 64 hexadecimal characters (the SHA-256 of the secret)");
        }

        if (role == BrokerRoles.Admin && (token.NamePrefixes.Count > 0 || token.AllocationsPerMinute is not null))
        {
            failures.Add($"{setting}: NamePrefixes and AllocationsPerMinute apply to track tokens only");
        }

        if (token.NamePrefixes.Any(p => !InputRules.IsValidPrefix(p)))
        {
            failures.Add($"{setting}:NamePrefixes: {InputRules.Describe("each prefix", InputRules.MaxPrefixLength)}");
        }

        if (token.AllocationsPerMinute is < 1)
        {
            failures.Add($"{setting}:AllocationsPerMinute must be at least 1");
        }
    }

    private static void CheckProduction(BrokerOptions options, IReadOnlyList<BrokerToken> tokens, List<string> failures)
    {
        if (!tokens.Any(t => t.Role == BrokerRoles.Track))
        {
            failures.Add("Broker:TrackTokens (or BROKER_API_TOKEN) is required in Production: set at least one token");
        }

        if (!tokens.Any(t => t.Role == BrokerRoles.Admin))
        {
            failures.Add("Broker:AdminTokens (or BROKER_ADMIN_TOKEN) is required in Production: set at least one token");
        }

        var secrets = options.TrackTokens.Select(s => ("Broker:TrackTokens (or BROKER_API_TOKEN)", s))
            .Concat(options.AdminTokens.Select(s => ("Broker:AdminTokens (or BROKER_ADMIN_TOKEN)", s)))
            .Concat(options.Tokens.Where(t => !string.IsNullOrEmpty(t.Value.Secret)).Select(t => ($"Broker:Tokens:{t.Key}:Secret", t.Value.Secret!)));
        foreach (var (setting, secret) in secrets)
        {
            if (secret.Length < PlaceholderTokens.MinimumProductionLength)
            {
                failures.Add($"{setting}: Production needs secrets of at least {PlaceholderTokens.MinimumProductionLength} characters");
            }
        }

        var known = PlaceholderTokens.All.Select(p => Convert.ToHexString(TokenDirectory.Digest(p))).ToHashSet(StringComparer.Ordinal);
        foreach (var token in tokens.Where(t => known.Contains(Convert.ToHexString(t.Digest))))
        {
            failures.Add($"token {token.Name} is a development token or a placeholder that ships in this repository; set real secrets in Production");
        }
    }

    private static bool IsWellFormedSecret(string secret) => secret.Length <= 512 && !secret.Any(char.IsWhiteSpace);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex TokenName();

    [GeneratedRegex("^(track|admin)-[0-9]+$")]
    private static partial Regex ListFormName();
}

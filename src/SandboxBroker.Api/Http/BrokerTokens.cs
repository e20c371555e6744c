using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using SandboxBroker.Api.Configuration;

namespace SandboxBroker.Api.Http;

/// <summary>
/// A configured bearer token as the broker knows it: its name (never the secret), role, the SHA-256 of its secret,
/// and for track tokens the name prefixes it is scoped to (none = the whole pool) and its allocation quota.
/// </summary>
public sealed record BrokerToken(string Name, string Role, byte[] Digest, IReadOnlyList<string> NamePrefixes, int AllocationsPerMinute)
{
    public bool IsScoped => NamePrefixes.Count > 0;

    /// <summary>Whether a sandbox name, or a requested name prefix, lies inside this token's scope.</summary>
    public bool Covers(string nameOrPrefix) =>
        !IsScoped || NamePrefixes.Any(p => nameOrPrefix.StartsWith(p, StringComparison.Ordinal));
}

/// <summary>
/// Every configured token, list form (named track-1, track-2, ... and admin-1, ... by position) and structured form
/// (Broker:Tokens:&lt;name&gt;), rebuilt when the options change. Matching compares the presented token's digest
/// with every configured digest in constant time, so neither which token matched nor its length leaks.
/// </summary>
internal sealed class TokenDirectory(IOptionsMonitor<BrokerOptions> options)
{
    private (BrokerOptions Source, IReadOnlyList<BrokerToken> Tokens)? cache;

    public IReadOnlyList<BrokerToken> All
    {
        get
        {
            var current = options.CurrentValue;
            var cached = cache;
            if (cached is { } c && ReferenceEquals(c.Source, current))
            {
                return c.Tokens;
            }

            var built = Build(current);
            cache = (current, built);
            return built;
        }
    }

    public BrokerToken? Match(ReadOnlySpan<char> presented)
    {
        var digest = Digest(presented);
        BrokerToken? match = null;
        foreach (var token in All)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, token.Digest) && match is null)
            {
                match = token; // keep comparing: the time taken does not depend on which token matched
            }
        }

        return match;
    }

    /// <summary>The tokens of a configuration; entries the validator refuses (bad role, bad hex) are left out.</summary>
    public static IReadOnlyList<BrokerToken> Build(BrokerOptions settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var tokens = new List<BrokerToken>();
        AddListed(tokens, settings.AdminTokens, BrokerRoles.Admin, settings.DefaultAllocationsPerMinute);
        AddListed(tokens, settings.TrackTokens, BrokerRoles.Track, settings.DefaultAllocationsPerMinute);
        foreach (var (name, token) in settings.Tokens.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            var role = token.Role?.Trim().ToLowerInvariant();
            var digest = !string.IsNullOrEmpty(token.Secret) ? Digest(token.Secret)
                : TryParseHex(token.Sha256, out var parsed) ? parsed : null;
            if (role is not (BrokerRoles.Track or BrokerRoles.Admin) || digest is null)
            {
                continue;
            }

            var prefixes = role == BrokerRoles.Track ? token.NamePrefixes.Where(p => !string.IsNullOrWhiteSpace(p)).ToArray() : [];
            tokens.Add(new BrokerToken(name, role, digest, prefixes, token.AllocationsPerMinute ?? settings.DefaultAllocationsPerMinute));
        }

        return tokens;
    }

    public static byte[] Digest(ReadOnlySpan<char> secret)
    {
        Span<byte> utf8 = secret.Length <= 256 ? stackalloc byte[Encoding.UTF8.GetMaxByteCount(secret.Length)] : new byte[Encoding.UTF8.GetMaxByteCount(secret.Length)];
        var length = Encoding.UTF8.GetBytes(secret, utf8);
        return SHA256.HashData(utf8[..length]);
    }

    public static bool TryParseHex(string? hex, out byte[] digest)
    {
        digest = [];
        if (hex is not { Length: 64 } || !hex.All(Uri.IsHexDigit))
        {
            return false;
        }

        digest = Convert.FromHexString(hex);
        return true;
    }

    private static void AddListed(List<BrokerToken> tokens, List<string> secrets, string role, int perMinute)
    {
        var position = 0;
        foreach (var secret in secrets)
        {
            if (string.IsNullOrWhiteSpace(secret))
            {
                continue;
            }

            position++;
            tokens.Add(new BrokerToken(role + "-" + position.ToString(CultureInfo.InvariantCulture), role, Digest(secret), [], perMinute));
        }
    }
}

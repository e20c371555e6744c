using System.Text.RegularExpressions;
using SandboxBroker.Api.Configuration;
using SandboxBroker.Tests.Edge;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Trust;

/// <summary>
/// The token rules of SPEC 11.3 as the validator applies them at start, and on the real process: a configuration
/// mistake or a publicly known secret stops the host with a message that names the setting.
/// </summary>
public sealed partial class TokenConfigurationTests
{
    private static readonly string SecretHash = new('a', 64);

    private static List<string> Failures(string environment, Action<BrokerOptions> configure)
    {
        var options = new BrokerOptions();
        configure(options);
        var result = new BrokerOptionsValidator(new TestHostEnvironment(environment)).Validate(null, options);
        return result.Failed ? result.Failures.ToList() : [];
    }

    private static TokenOptions Track(string? secret = null, string? sha = null) => new() { Role = "track", Secret = secret, Sha256 = sha };

    [Fact]
    public void A_well_formed_structured_configuration_passes_in_production()
    {
        var failures = Failures("Production", o =>
        {
            o.Tokens["lab-1"] = new TokenOptions { Role = "track", Secret = "a-real-secret-0123456789", NamePrefixes = ["lab1-"], AllocationsPerMinute = 300 };
            o.Tokens["ops"] = new TokenOptions { Role = "ADMIN", Sha256 = SecretHash };
        });
        Assert.Empty(failures);
    }

    [Theory]
    [InlineData("operator", null, null, "Role must be 'track' or 'admin'")]
    [InlineData("track", "both-a-secret-0123456789", "sha", "set exactly one of Secret and Sha256")]
    [InlineData("track", null, null, "set exactly one of Secret and Sha256")]
    [InlineData("track", null, "not-hex", "Sha256 must be 64 hexadecimal characters")]
    public void A_malformed_structured_token_is_refused_everywhere_naming_its_setting(string role, string? secret, string? sha, string message)
    {
        var failures = Failures("Development", o => o.Tokens["lab-x"] = new TokenOptions
        {
            Role = role, Secret = secret, Sha256 = sha is "sha" ? SecretHash : sha,
        });
        Assert.Contains(failures, f => f.Contains("Broker:Tokens:lab-x", StringComparison.Ordinal) && f.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void Prefixes_belong_to_track_tokens_names_must_not_imitate_the_list_form_and_secrets_are_not_shared()
    {
        var failures = Failures("Development", o =>
        {
            o.Tokens["ops"] = new TokenOptions { Role = "admin", Secret = "ops-secret-0123456789", NamePrefixes = ["x"] };
            o.Tokens["track-1"] = Track("other-secret-0123456789");
            o.Tokens["twin"] = Track("ops-secret-0123456789");
        });
        Assert.Contains(failures, f => f.Contains("apply to track tokens only", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Broker:Tokens:track-1", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("one secret is configured for two tokens", StringComparison.Ordinal));
    }

    [Fact]
    public void Production_refuses_short_secrets_in_either_form_and_every_placeholder_even_as_its_hash()
    {
        var shortOnes = Failures("Production", o =>
        {
            o.TrackTokens = ["short"];
            o.Tokens["ops"] = new TokenOptions { Role = "admin", Secret = "only-15-chars-x" };
        });
        Assert.Contains(shortOnes, f => f.StartsWith("Broker:TrackTokens", StringComparison.Ordinal) && f.Contains("at least 16", StringComparison.Ordinal));
        Assert.Contains(shortOnes, f => f.StartsWith("Broker:Tokens:ops:Secret", StringComparison.Ordinal));

        foreach (var placeholder in PlaceholderTokens.All)
        {
            var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(placeholder)));
            var failures = Failures("Production", o =>
            {
                o.TrackTokens = ["a-real-track-secret-0123456789"];
                o.Tokens["ops"] = new TokenOptions { Role = "admin", Sha256 = hash };
            });
            Assert.Contains(failures, f => f.Contains("token ops is a development token or a placeholder", StringComparison.Ordinal));
        }

        Assert.Empty(Failures("Development", o => o.TrackTokens = ["dev-track-token"]));
    }

    /// <summary>Every token value the repository ships (compose, workflows, docs, README) is one Production refuses.</summary>
    [Fact]
    public void Every_token_value_that_ships_in_the_repository_is_a_known_placeholder()
    {
        var files = new[] { "docker-compose.yml", "README.md", ".github/workflows/ci.yml", ".github/workflows/release.yml" }
            .Concat(Directory.GetFiles(RepositoryFiles.PathOf("docs"), "*.md").Select(f => Path.GetRelativePath(RepositoryFiles.PathOf(), f)))
            .Concat(["src/SandboxBroker.Api/appsettings.Development.json", "infra/README.md"]);
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var text = File.ReadAllText(RepositoryFiles.PathOf(file.Split('/')));
            foreach (Match m in TokenValue().Matches(text))
            {
                found.Add(m.Groups["v"].Value);
            }
        }

        Assert.Contains("dev-track-token", found); // the scan sees the tokens it is meant to see
        Assert.All(found, v => Assert.Contains(v, PlaceholderTokens.All));
    }

    [Fact]
    public async Task The_real_process_refuses_a_malformed_token_with_a_message_naming_it()
    {
        var (exit, output) = await StartupFailure.RunAsync(("Broker__Tokens__lab9__Role", "track"), ("Broker__Tokens__lab9__Sha256", "xyz"));
        Assert.NotEqual(0, exit ?? 0);
        Assert.Contains("Broker:Tokens:lab9:Sha256 must be 64 hexadecimal characters", output, StringComparison.Ordinal);
        Assert.DoesNotContain("edge-track-token-0123456789", output, StringComparison.Ordinal);
    }

    // "Bearer <value>", a token setting "= <value>" / ": <value>" / "${VAR:-<value>}", and JSON token lists.
    [GeneratedRegex(@"(?:Bearer\s+|(?:TOKEN|Tokens__\d+|Tokens:\d+|Secret)[""']?\s*[:=]\s*[""']?(?:\$\{[A-Z_]+:-)?|Tokens""\s*:\s*\[\s*"")(?<v>[A-Za-z][A-Za-z0-9._-]{5,})")]
    private static partial Regex TokenValue();
}

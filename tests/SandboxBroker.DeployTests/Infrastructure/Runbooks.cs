using System.Text.RegularExpressions;

namespace SandboxBroker.DeployTests.Infrastructure;

/// <summary>The anchors of docs/runbooks.md, as GitHub renders heading links.</summary>
internal static partial class Runbooks
{
    public const string File = "docs/runbooks.md";

    /// <summary>
    /// A runbook link in alerts.yml: Prometheus's external label runbook_base, falling back to the documented default,
    /// then the section.
    /// </summary>
    [GeneratedRegex("""^\{\{ or \$externalLabels\.runbook_base "(?<default>[^"]+)" \}\}#(?<anchor>[a-z0-9-]+)$""")]
    public static partial Regex PrometheusLink();

    public static IReadOnlySet<string> Anchors()
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in Heading().Matches(Repo.Read("docs", "runbooks.md")))
        {
            anchors.Add(Slug(m.Groups[1].Value));
        }

        return anchors;
    }

    public static string Slug(string heading) =>
        Punctuation().Replace(heading.Trim().ToLowerInvariant(), "").Replace(' ', '-');

    [GeneratedRegex(@"^#{1,6}\s+(.+?)\s*$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"[^\p{L}\p{N}\- _]")]
    private static partial Regex Punctuation();
}

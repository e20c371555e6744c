using System.Text.Json;
using System.Text.RegularExpressions;

namespace SandboxBroker.DeployTests.Infrastructure;

internal sealed record DockerInstruction(string Keyword, string Arguments, int Line)
{
    /// <summary>Arguments of the exec (JSON array) form, or null for the shell form.</summary>
    public IReadOnlyList<string>? ExecForm =>
        Arguments.TrimStart().StartsWith('[') ? JsonSerializer.Deserialize<string[]>(Arguments.Trim()) : null;

    /// <summary>Flags (--from=build) and the remaining words of the shell form.</summary>
    public (Dictionary<string, string> Flags, List<string> Words) Split()
    {
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        var words = new List<string>();
        foreach (var word in Dockerfile.Words(Arguments))
        {
            if (words.Count == 0 && word.StartsWith("--", StringComparison.Ordinal))
            {
                var eq = word.IndexOf('=', StringComparison.Ordinal);
                flags[eq < 0 ? word[2..] : word[2..eq]] = eq < 0 ? "" : word[(eq + 1)..];
            }
            else
            {
                words.Add(word);
            }
        }

        return (flags, words);
    }
}

internal sealed record DockerStage(string BaseImage, string? Name, IReadOnlyList<DockerInstruction> Instructions)
{
    public IEnumerable<DockerInstruction> All(string keyword) =>
        Instructions.Where(i => i.Keyword.Equals(keyword, StringComparison.OrdinalIgnoreCase));

    public DockerInstruction? Last(string keyword) => All(keyword).LastOrDefault();
}

/// <summary>A small Dockerfile reader: continuation lines, comments, stages and their instructions.</summary>
internal static partial class Dockerfile
{
    public static IReadOnlyList<DockerStage> Parse(string text)
    {
        var stages = new List<DockerStage>();
        List<DockerInstruction>? current = null;
        string? image = null, name = null;
        var pending = "";
        var startLine = 0;
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (pending.Length == 0 && (line.TrimStart().StartsWith('#') || line.Trim().Length == 0))
            {
                continue;
            }

            if (pending.Length == 0)
            {
                startLine = i + 1;
            }
            else if (line.TrimStart().StartsWith('#'))
            {
                continue; // comment lines inside a continuation are dropped
            }

            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }

            var full = (pending + line).Trim();
            pending = "";
            var space = full.IndexOfAny([' ', '\t']);
            var keyword = (space < 0 ? full : full[..space]).ToUpperInvariant();
            var arguments = space < 0 ? "" : full[(space + 1)..].Trim();
            if (keyword == "FROM")
            {
                if (current is not null)
                {
                    stages.Add(new DockerStage(image!, name, current));
                }

                var m = From().Match(arguments);
                Assert.True(m.Success, $"Dockerfile line {startLine}: cannot read FROM {arguments}");
                (image, name, current) = (m.Groups["image"].Value, m.Groups["name"].Success ? m.Groups["name"].Value : null, []);
            }
            else
            {
                Assert.True(current is not null, $"Dockerfile line {startLine}: {keyword} before FROM");
                current.Add(new DockerInstruction(keyword, arguments, startLine));
            }
        }

        if (current is not null)
        {
            stages.Add(new DockerStage(image!, name, current));
        }

        return stages;
    }

    /// <summary>Splits a shell-form argument string into words, honouring simple single and double quotes.</summary>
    public static IEnumerable<string> Words(string text)
    {
        foreach (Match m in Word().Matches(text))
        {
            yield return m.Groups["dq"].Success ? m.Groups["dq"].Value : m.Groups["sq"].Success ? m.Groups["sq"].Value : m.Groups["w"].Value;
        }
    }

    [GeneratedRegex(@"^(--platform=\S+\s+)?(?<image>\S+)(\s+AS\s+(?<name>\S+))?$", RegexOptions.IgnoreCase)]
    private static partial Regex From();

    [GeneratedRegex("\"(?<dq>[^\"]*)\"|'(?<sq>[^']*)'|(?<w>\\S+)")]
    private static partial Regex Word();
}

/// <summary>.dockerignore rules (Docker's syntax: glob patterns with **, later rules win, "!" re-includes).</summary>
internal sealed class DockerIgnore
{
    private readonly List<(Regex Pattern, bool Exclude)> rules = [];

    public DockerIgnore(string? text)
    {
        foreach (var raw in (text ?? "").Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var exclude = !line.StartsWith('!');
            var pattern = (exclude ? line : line[1..]).Trim().Trim('/');
            if (pattern.StartsWith("./", StringComparison.Ordinal))
            {
                pattern = pattern[2..];
            }

            rules.Add((new Regex("^" + ToRegex(pattern) + "$", RegexOptions.CultureInvariant), exclude));
        }
    }

    /// <summary>True when a context path (relative, forward slashes) is left out of the build context.</summary>
    public bool Excludes(string relativePath)
    {
        // A rule that matches a parent directory also excludes everything under it.
        var parts = relativePath.Split('/');
        var excluded = false;
        foreach (var (pattern, exclude) in rules)
        {
            for (var n = 1; n <= parts.Length; n++)
            {
                if (pattern.IsMatch(string.Join('/', parts.Take(n))))
                {
                    excluded = exclude;
                    break;
                }
            }
        }

        return excluded;
    }

    private static string ToRegex(string glob)
    {
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < glob.Length; i++)
        {
            if (glob[i] == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
            {
                var slash = i + 2 < glob.Length && glob[i + 2] == '/';
                sb.Append(slash ? "(.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else
            {
                sb.Append(glob[i] switch
                {
                    '*' => "[^/]*",
                    '?' => "[^/]",
                    _ => Regex.Escape(glob[i].ToString()),
                });
            }
        }

        return sb.ToString();
    }
}

using System.Text.RegularExpressions;

namespace SandboxBroker.DeployTests.Infrastructure;

/// <summary>Samples of a Prometheus text exposition: sample name to the label sets seen.</summary>
internal static partial class PrometheusText
{
    public static Dictionary<string, List<Dictionary<string, string>>> Parse(string text)
    {
        var samples = new Dictionary<string, List<Dictionary<string, string>>>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            var m = Sample().Match(line);
            Assert.True(m.Success, $"unreadable metrics line: {line}");
            var labels = Label().Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups["name"].Value, l => l.Groups["value"].Value, StringComparer.Ordinal);
            if (!samples.TryGetValue(m.Groups["name"].Value, out var list))
            {
                samples[m.Groups["name"].Value] = list = [];
            }

            list.Add(labels);
        }

        return samples;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+\S+(\s+\d+)?$")]
    private static partial Regex Sample();

    [GeneratedRegex(@"(?<name>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}

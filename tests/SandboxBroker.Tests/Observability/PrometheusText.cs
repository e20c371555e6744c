using System.Globalization;
using System.Text.RegularExpressions;

namespace SandboxBroker.Tests.Observability;

/// <summary>One sample line of the Prometheus text format.</summary>
public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>A small parser for /metrics: TYPE lines and samples.</summary>
public sealed partial class PrometheusText
{
    private PrometheusText(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Types[parts[2]] = parts[3];
            }
            else if (line.Length > 0 && line[0] != '#')
            {
                var m = SampleLine().Match(line);
                Assert.True(m.Success, $"not a sample line: {line}");
                var labels = LabelPair().Matches(m.Groups["labels"].Value)
                    .ToDictionary(p => p.Groups["k"].Value, p => p.Groups["v"].Value, StringComparer.Ordinal);
                Samples.Add(new Sample(m.Groups["name"].Value, labels, double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture)));
            }
        }
    }

    public string Text { get; }

    public Dictionary<string, string> Types { get; } = new(StringComparer.Ordinal);

    public List<Sample> Samples { get; } = [];

    public static async Task<PrometheusText> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return new PrometheusText(await response.Content.ReadAsStringAsync());
    }

    /// <summary>The value of the one sample with this name and (a superset of) these labels.</summary>
    public double Value(string name, params (string Label, string Value)[] labels)
    {
        var matches = Find(name, labels).ToList();
        Assert.True(matches.Count == 1, $"{name}{{{string.Join(",", labels.Select(l => $"{l.Label}=\"{l.Value}\""))}}}: {matches.Count} samples");
        return matches[0].Value;
    }

    public IEnumerable<Sample> Find(string name, params (string Label, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Label, out var v) && v == l.Value));

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)( \d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<k>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<v>(?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}

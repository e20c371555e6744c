using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;

namespace SandboxBroker.Testing;

/// <summary>One sample line of the Prometheus text format.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// A small parser for the Prometheus text exposition (/metrics): TYPE lines and samples. Every other line that is not
/// a comment must be a sample (name, optional labels, value, optional timestamp, separated by blanks or tabs).
/// </summary>
public sealed partial class PrometheusText
{
    private PrometheusText(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n').Select(l => l.Trim()))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                Types[parts[2]] = parts[3];
            }
            else if (line.Length > 0 && line[0] != '#')
            {
                var m = SampleLine().Match(line);
                Assert.True(m.Success, $"not a sample line: {line}");
                var labels = LabelPair().Matches(m.Groups["labels"].Value)
                    .ToDictionary(p => p.Groups["k"].Value, p => p.Groups["v"].Value, StringComparer.Ordinal);
                Samples.Add(new PrometheusSample(m.Groups["name"].Value, labels, double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture)));
            }
        }
    }

    public string Text { get; }

    public Dictionary<string, string> Types { get; } = new(StringComparer.Ordinal);

    public List<PrometheusSample> Samples { get; } = [];

    public static PrometheusText Parse(string text) => new(text);

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

    public IEnumerable<PrometheusSample> Find(string name, params (string Label, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Label, out var v) && v == l.Value));

    /// <summary>Sample name to the label sets seen with it, in exposition order.</summary>
    public Dictionary<string, List<IReadOnlyDictionary<string, string>>> SeriesByName()
    {
        var series = new Dictionary<string, List<IReadOnlyDictionary<string, string>>>(StringComparer.Ordinal);
        foreach (var sample in Samples)
        {
            if (!series.TryGetValue(sample.Name, out var list))
            {
                series[sample.Name] = list = [];
            }

            list.Add(sample.Labels);
        }

        return series;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?[ \t]+(?<value>\S+)([ \t]+-?\d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<k>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<v>(?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}

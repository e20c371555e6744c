using YamlDotNet.Serialization;

namespace SandboxBroker.DeployTests.Infrastructure;

/// <summary>YAML files as plain maps and lists (YamlDotNet), with accessors that fail with the path.</summary>
internal static class Yaml
{
    public static Dictionary<object, object?> Load(params string[] path)
    {
        var text = Repo.Read(path);
        var document = new DeserializerBuilder().Build().Deserialize<object>(text);
        return Assert.IsType<Dictionary<object, object?>>(document);
    }

    public static Dictionary<object, object?> Map(this Dictionary<object, object?> map, string key)
    {
        Assert.True(map.TryGetValue(key, out var value) && value is Dictionary<object, object?>, $"'{key}' is missing or not a map");
        return (Dictionary<object, object?>)value!;
    }

    public static Dictionary<object, object?>? MapOrNull(this Dictionary<object, object?> map, string key) =>
        map.TryGetValue(key, out var value) ? value as Dictionary<object, object?> : null;

    public static List<object?> List(this Dictionary<object, object?> map, string key)
    {
        Assert.True(map.TryGetValue(key, out var value) && value is List<object?>, $"'{key}' is missing or not a list");
        return (List<object?>)value!;
    }

    public static string? Text(this Dictionary<object, object?> map, string key) =>
        map.TryGetValue(key, out var value) ? value?.ToString() : null;

    /// <summary>Compose environment in either form (map, or list of NAME=value).</summary>
    public static Dictionary<string, string?> Environment(this Dictionary<object, object?> service)
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        switch (service.TryGetValue("environment", out var env) ? env : null)
        {
            case Dictionary<object, object?> map:
                foreach (var (k, v) in map)
                {
                    result[k.ToString()!] = v?.ToString();
                }

                break;
            case List<object?> list:
                foreach (var item in list.Select(i => i?.ToString() ?? ""))
                {
                    var eq = item.IndexOf('=', StringComparison.Ordinal);
                    result[eq < 0 ? item : item[..eq]] = eq < 0 ? null : item[(eq + 1)..];
                }

                break;
        }

        return result;
    }
}

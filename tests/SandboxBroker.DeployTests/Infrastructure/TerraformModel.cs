using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace SandboxBroker.DeployTests.Infrastructure;

/// <summary>
/// Every .tf and .tfvars file under infra/, parsed with @cdktn/hcl2json (js/hcl2json.js) and merged: resources,
/// data sources, locals, variables and outputs by name. Expressions stay strings ("${...}"); <see cref="Resolve"/>
/// follows plain local/var references to literals.
/// </summary>
internal sealed partial class TerraformModel
{
    private static readonly Lazy<Task<TerraformModel>> Shared = new(LoadAsync);

    public static Task<TerraformModel> Instance => Shared.Value;

    public Dictionary<string, JsonObject> Files { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, JsonObject> Resources { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, JsonObject> DataSources { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, JsonNode?> Locals { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, JsonObject> Variables { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, JsonObject> Outputs { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, JsonObject> TfVars { get; } = new(StringComparer.Ordinal);

    public static async Task<TerraformModel> LoadAsync() => Parse(await ParseDirectoryAsync(Repo.PathOf("infra")));

    /// <summary>Runs hcl2json over a directory (also used on scratch copies).</summary>
    public static async Task<JsonObject> ParseDirectoryAsync(string directory)
    {
        Assert.True(Directory.Exists(directory), $"{directory} is missing");
        var result = await NodeTools.RunScriptAsync("hcl2json.js", "@cdktn/hcl2json", directory);
        Assert.True(result.ExitCode == 0, result.Describe("hcl2json"));
        return JsonNode.Parse(result.StandardOutput)!.AsObject();
    }

    public static TerraformModel Parse(JsonObject files)
    {
        var model = new TerraformModel();
        foreach (var (file, node) in files)
        {
            var content = node!.AsObject();
            model.Files[file] = content;
            if (file.EndsWith(".tfvars", StringComparison.Ordinal))
            {
                model.TfVars[file] = content;
                continue;
            }

            AddTyped(content["resource"], model.Resources, file);
            AddTyped(content["data"], model.DataSources, file);
            AddNamed(content["variable"], model.Variables, file);
            AddNamed(content["output"], model.Outputs, file);
            foreach (var block in content["locals"]?.AsArray() ?? [])
            {
                foreach (var (name, value) in block!.AsObject())
                {
                    Assert.False(model.Locals.ContainsKey(name), $"local.{name} is defined twice ({file})");
                    model.Locals[name] = value;
                }
            }
        }

        return model;
    }

    public JsonObject Resource(string type, string name)
    {
        Assert.True(Resources.TryGetValue($"{type}.{name}", out var body), $"infra/ has no resource {type}.{name}");
        return body;
    }

    public JsonObject DataSource(string type, string name)
    {
        Assert.True(DataSources.TryGetValue($"{type}.{name}", out var body), $"infra/ has no data source {type}.{name}");
        return body;
    }

    public JsonNode? Local(string name)
    {
        Assert.True(Locals.TryGetValue(name, out var value), $"infra/ has no local.{name}");
        return value;
    }

    public IEnumerable<KeyValuePair<string, JsonObject>> ResourcesOfType(string type) =>
        Resources.Where(r => r.Key.StartsWith(type + ".", StringComparison.Ordinal));

    /// <summary>Nested blocks come out of hcl2json as arrays of objects.</summary>
    public static IReadOnlyList<JsonObject> Blocks(JsonObject? body, string name) =>
        body?[name] switch
        {
            JsonArray array => [.. array.OfType<JsonObject>()],
            JsonObject single => [single],
            _ => [],
        };

    public static JsonObject Block(JsonObject? body, string name)
    {
        var blocks = Blocks(body, name);
        Assert.True(blocks.Count == 1, $"expected one '{name}' block, found {blocks.Count}");
        return blocks[0];
    }

    /// <summary>
    /// The literal value of a node: a literal, or "${local.x}" / "${var.x}" (its default) followed to a literal.
    /// Null when the value is a real expression.
    /// </summary>
    public string? Resolve(JsonNode? node, int depth = 0)
    {
        if (node is not JsonValue value || depth > 10)
        {
            return null;
        }

        if (value.TryGetValue<string>(out var text))
        {
            var reference = WholeReference().Match(text);
            if (!reference.Success)
            {
                return text.Contains("${", StringComparison.Ordinal) ? null : text;
            }

            var name = reference.Groups["name"].Value;
            return reference.Groups["kind"].Value == "local"
                ? Locals.TryGetValue(name, out var local) ? Resolve(local, depth + 1) : null
                : Variables.TryGetValue(name, out var variable) ? Resolve(variable["default"], depth + 1) : null;
        }

        return value.ToJsonString().Trim('"');
    }

    /// <summary>Every string in a node, with a readable path.</summary>
    public static IEnumerable<(string Path, string Value)> Strings(JsonNode? node, string path)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj)
                {
                    foreach (var item in Strings(child, $"{path}.{key}"))
                    {
                        yield return item;
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    foreach (var item in Strings(array[i], $"{path}[{i}]"))
                    {
                        yield return item;
                    }
                }

                break;
            case JsonValue value when value.TryGetValue<string>(out var text):
                yield return (path, text);
                break;
        }
    }

    /// <summary>The expressions inside "${...}" of a string (brace-balanced, nested templates included).</summary>
    public static IEnumerable<string> Interpolations(string text)
    {
        for (var start = text.IndexOf("${", StringComparison.Ordinal); start >= 0; start = text.IndexOf("${", start + 2, StringComparison.Ordinal))
        {
            var depth = 0;
            for (var i = start + 1; i < text.Length; i++)
            {
                if (text[i] == '{')
                {
                    depth++;
                }
                else if (text[i] == '}' && --depth == 0)
                {
                    yield return text[(start + 2)..i];
                    start = i - 1;
                    break;
                }
            }
        }
    }

    private static void AddTyped(JsonNode? section, Dictionary<string, JsonObject> target, string file)
    {
        foreach (var (type, byName) in section?.AsObject() ?? [])
        {
            foreach (var (name, bodies) in byName!.AsObject())
            {
                Assert.False(target.ContainsKey($"{type}.{name}"), $"{type}.{name} is defined twice ({file})");
                target[$"{type}.{name}"] = bodies!.AsArray().Single()!.AsObject();
            }
        }
    }

    private static void AddNamed(JsonNode? section, Dictionary<string, JsonObject> target, string file)
    {
        foreach (var (name, bodies) in section?.AsObject() ?? [])
        {
            Assert.False(target.ContainsKey(name), $"{name} is declared twice ({file})");
            target[name] = bodies!.AsArray().Single()!.AsObject();
        }
    }

    [GeneratedRegex(@"^\$\{(?<kind>local|var)\.(?<name>[A-Za-z0-9_-]+)\}$")]
    private static partial Regex WholeReference();
}

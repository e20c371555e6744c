using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace SandboxBroker.DeployTests.Infrastructure;

/// <summary>The broker container of the ECS task definition, as the Terraform declares it (locals.tf).</summary>
internal sealed partial class TaskDefinition
{
    private TaskDefinition(TerraformModel model, JsonObject container, IReadOnlyDictionary<string, JsonNode?> environment, IReadOnlyDictionary<string, JsonNode?> secrets)
    {
        Model = model;
        Container = container;
        Environment = environment;
        Secrets = secrets;
    }

    public TerraformModel Model { get; }
    public JsonObject Container { get; }

    /// <summary>Plain environment: name to value expression.</summary>
    public IReadOnlyDictionary<string, JsonNode?> Environment { get; }

    /// <summary>Secrets Manager injections: name to valueFrom expression.</summary>
    public IReadOnlyDictionary<string, JsonNode?> Secrets { get; }

    public static TaskDefinition Of(TerraformModel model)
    {
        var task = model.Resource("aws_ecs_task_definition", "app");
        var definitions = Assert.IsType<string>(task["container_definitions"]?.GetValue<string>());
        var containers = LocalsReferenced(definitions).ToList();
        Assert.True(containers.Count == 1, $"container_definitions should be jsonencode(local.<one list>), is {definitions}");
        var list = Assert.IsType<JsonArray>(model.Local(containers[0]));
        var containerName = model.Resolve(model.Local("container_name"));
        var broker = list.OfType<JsonObject>().SingleOrDefault(c => model.Resolve(c["name"]) == containerName);
        Assert.True(broker is not null, $"no container named {containerName} in local.{containers[0]}");

        var service = model.Resource("aws_ecs_service", "app");
        Assert.Equal(containerName, model.Resolve(TerraformModel.Block(service, "load_balancer")["container_name"]));

        return new TaskDefinition(model, broker, Pairs(model, broker["environment"], "value"), Pairs(model, broker["secrets"], "valueFrom"));
    }

    /// <summary>
    /// name/value pairs of a container list: a literal list of {name, value} objects, or a for expression over locals
    /// that are maps (name => value), or expressions (merge, for) over such locals.
    /// </summary>
    private static Dictionary<string, JsonNode?> Pairs(TerraformModel model, JsonNode? node, string valueKey)
    {
        var pairs = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        switch (node)
        {
            case JsonArray array:
                foreach (var item in array.OfType<JsonObject>())
                {
                    pairs[Assert.IsType<string>(model.Resolve(item["name"]))] = item[valueKey];
                }

                break;
            case JsonValue value when value.TryGetValue<string>(out var expression):
                foreach (var local in LocalsReferenced(expression))
                {
                    foreach (var (name, entry) in MapEntries(model, local, 0))
                    {
                        pairs[name] = entry;
                    }
                }

                break;
            default:
                Assert.Fail($"unexpected container list {node?.ToJsonString()}");
                break;
        }

        return pairs;
    }

    private static IEnumerable<(string Name, JsonNode? Value)> MapEntries(TerraformModel model, string local, int depth)
    {
        Assert.True(depth < 5, $"local.{local}: references nest too deep");
        switch (model.Local(local))
        {
            case JsonObject map:
                foreach (var (name, value) in map)
                {
                    yield return (name, value);
                }

                break;
            case JsonValue value when value.TryGetValue<string>(out var expression):
                foreach (var inner in LocalsReferenced(expression))
                {
                    foreach (var entry in MapEntries(model, inner, depth + 1))
                    {
                        yield return entry;
                    }
                }

                break;
            default:
                Assert.Fail($"local.{local} is neither a map nor an expression over maps");
                break;
        }
    }

    public static IEnumerable<string> LocalsReferenced(string expression) =>
        LocalReference().Matches(expression).Select(m => m.Groups[1].Value).Distinct();

    [GeneratedRegex(@"\blocal\.([A-Za-z0-9_]+)")]
    private static partial Regex LocalReference();
}

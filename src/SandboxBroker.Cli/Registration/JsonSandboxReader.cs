using System.Text.Json;
using System.Text.Json.Nodes;
using SandboxBroker.Cli.Infrastructure;

namespace SandboxBroker.Cli.Registration;

/// <summary>
/// Reads a JSON file: an array of {sandbox_id, name, external_id, sfdc_account_id?}, or the registration body
/// {"sandboxes": [...]} itself. The first bad item stops the read, named by its index and line.
/// </summary>
internal static class JsonSandboxReader
{
    private static readonly JsonDocumentOptions Lenient = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    public static List<SandboxRow> Read(string path)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(FileText.All(path));
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(bytes, documentOptions: Lenient);
        }
        catch (JsonException ex)
        {
            throw new InputFileException($"{path} line {(ex.LineNumber ?? 0) + 1}: not valid JSON ({ex.Message}); nothing was sent.", ex);
        }

        var wrapped = root is JsonObject;
        if ((wrapped ? root!["sandboxes"] : root) is not JsonArray items)
        {
            throw new InputFileException($"{path}: expected an array of sandboxes, or {{\"sandboxes\": [...]}}; nothing was sent.");
        }

        var lines = ItemLines(bytes, wrapped);
        var rows = new List<SandboxRow>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            var where = $"sandboxes[{i}] (line {(i < lines.Count ? lines[i] : 0)})";
            if (items[i] is not JsonObject item)
            {
                throw new InputFileException($"{path} {where}: must be an object; nothing was sent.");
            }

            var (id, name, externalId, sfdc) = (Text(item, "sandbox_id"), Text(item, "name"), Text(item, "external_id"), Text(item, "sfdc_account_id"));
            if (SandboxRowRules.Check(id, name, externalId, sfdc) is { } problem)
            {
                throw new InputFileException($"{path} {where}: {problem}; nothing was sent.");
            }

            rows.Add(new SandboxRow(id!, name!, externalId!, string.IsNullOrEmpty(sfdc) ? null : sfdc, where));
        }

        return rows;
    }

    /// <summary>A string property; null when absent, null or not a string (the broker refuses numbers too).</summary>
    private static string? Text(JsonObject item, string property) =>
        item[property] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    /// <summary>The 1-based line where each item of the sandboxes array starts.</summary>
    private static List<int> ItemLines(byte[] bytes, bool wrapped)
    {
        var lines = new List<int>();
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        var itemDepth = wrapped ? 2 : 1;
        var inArray = !wrapped;
        var line = 1;
        var counted = 0;
        while (reader.Read())
        {
            if (wrapped && reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
            {
                inArray = reader.ValueTextEquals("sandboxes");
                continue;
            }

            var isItemStart = inArray && reader.CurrentDepth == itemDepth
                && reader.TokenType is not (JsonTokenType.EndObject or JsonTokenType.EndArray or JsonTokenType.PropertyName);
            if (isItemStart)
            {
                var start = (int)reader.TokenStartIndex;
                line += bytes.AsSpan(counted, start - counted).Count((byte)'\n');
                counted = start;
                lines.Add(line);
            }
        }

        return lines;
    }
}

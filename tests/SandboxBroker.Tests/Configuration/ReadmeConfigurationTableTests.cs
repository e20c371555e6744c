using System.Collections;
using System.Reflection;
using System.Text.RegularExpressions;
using SandboxBroker.Api.Configuration;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Configuration;

/// <summary>
/// README's configuration table names every option key the code binds (every settable property of every options
/// class with a SectionName, nested sections included) and no key the code does not know, so operators can trust it.
/// </summary>
public sealed partial class ReadmeConfigurationTableTests
{
    // Keys read from configuration outside an options class.
    private static readonly string[] KnownOutsideOptions = ["Logging:MinimumLevel"];

    [Fact]
    public void The_configuration_table_lists_every_option_key_and_only_those()
    {
        var bound = OptionKeys().ToHashSet(StringComparer.Ordinal);
        Assert.Contains("Broker:CursorKey", bound);
        Assert.Contains("Storage:DynamoDb:TableName", bound);   // nested sections are walked

        var documented = DocumentedKeys().ToHashSet(StringComparer.Ordinal);
        var missing = bound.Except(documented).Order(StringComparer.Ordinal).ToList();
        var unknown = documented.Except(bound).Except(KnownOutsideOptions).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, "README.md's configuration table lacks: " + string.Join(", ", missing));
        Assert.True(unknown.Count == 0, "README.md's configuration table names keys the code does not bind: " + string.Join(", ", unknown));
    }

    private static IEnumerable<string> OptionKeys() =>
        typeof(BrokerOptions).Assembly.GetTypes()
            .Select(t => (Type: t, Section: t.GetField("SectionName", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() as string))
            .Where(t => t.Section is not null && t.Type.IsClass)
            .SelectMany(t => KeysOf(t.Type, t.Section!));

    private static IEnumerable<string> KeysOf(Type type, string prefix)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod?.IsPublic == true))
        {
            var key = $"{prefix}:{property.Name}";
            var nestedSection = property.PropertyType.IsClass && property.PropertyType != typeof(string)
                && !typeof(IEnumerable).IsAssignableFrom(property.PropertyType)
                && property.PropertyType.Assembly == typeof(BrokerOptions).Assembly;
            foreach (var nested in nestedSection ? KeysOf(property.PropertyType, key) : [key])
            {
                yield return nested;
            }
        }
    }

    /// <summary>Keys in the first cell of the README's "| key | default |" table; `:Name` continues the previous key's section.</summary>
    private static IEnumerable<string> DocumentedKeys()
    {
        var lines = File.ReadAllLines(RepositoryFiles.PathOf("README.md"));
        var start = Array.FindIndex(lines, l => l.StartsWith("| key | default |", StringComparison.Ordinal));
        Assert.True(start >= 0, "README.md has no '| key | default |' table");
        foreach (var row in lines.Skip(start + 2).TakeWhile(l => l.StartsWith('|')))
        {
            var firstCell = row.Split('|')[1];
            var section = "";
            foreach (Match key in Key().Matches(firstCell))
            {
                var text = key.Groups[1].Value;
                if (text.StartsWith(':'))
                {
                    yield return section + text;
                    continue;
                }

                section = text[..text.LastIndexOf(':')];
                yield return text;
            }
        }
    }

    [GeneratedRegex(@"`(:?[A-Z][A-Za-z]*(?::[A-Z][A-Za-z]*)*)`")]
    private static partial Regex Key();
}

using System.Collections;
using System.Reflection;

namespace SandboxBroker.DeployTests.Infrastructure;

/// <summary>
/// Checks configuration keys in environment form (Storage__DynamoDb__TableName) against the options classes of the
/// broker: every class with a <c>SectionName</c> constant is a section; each further "__" segment must name a
/// property (case-insensitive, as the configuration binder matches), a numeric index into a list, or a dictionary key,
/// and the last one must be a value (not a whole section).
/// </summary>
internal static class ConfigurationKeys
{
    /// <summary>Variables the .NET host reads itself; not configuration of the broker's options.</summary>
    private static readonly string[] RuntimePrefixes = ["ASPNETCORE_", "DOTNET_"];

    private static readonly Lazy<ILookup<string, Type>> SectionTypes = new(() =>
        typeof(Program).Assembly.GetTypes()
            .Select(t => (Type: t, Field: t.GetField("SectionName", BindingFlags.Public | BindingFlags.Static)))
            .Where(x => x.Field is { IsLiteral: true } && x.Field.FieldType == typeof(string))
            .ToLookup(x => (string)x.Field!.GetRawConstantValue()!, x => x.Type, StringComparer.OrdinalIgnoreCase));

    public static ILookup<string, Type> Sections => SectionTypes.Value;

    /// <summary>Null when the name is a real key of the broker's options (or a host variable), else why not.</summary>
    public static string? Explain(string environmentName)
    {
        var segments = environmentName.Split("__");
        if (segments.Length == 1)
        {
            return RuntimePrefixes.Any(p => environmentName.StartsWith(p, StringComparison.Ordinal))
                ? null
                : $"{environmentName} is neither a configuration key (Section__Property) nor an ASPNETCORE_/DOTNET_ host variable";
        }

        if (!Sections.Contains(segments[0]))
        {
            return $"{environmentName}: no options class has SectionName \"{segments[0]}\" (sections: {string.Join(", ", Sections.Select(s => s.Key).Order())})";
        }

        var problems = Sections[segments[0]].Select(t => Walk(t, segments, 1)).ToList();
        return problems.Any(p => p is null) ? null : $"{environmentName}: {problems.First()}";
    }

    private static string? Walk(Type type, string[] segments, int index)
    {
        if (index == segments.Length)
        {
            return IsValue(type) ? null : $"{string.Join("__", segments)} names the whole {type.Name}, not a value";
        }

        var segment = segments[index];
        if (DictionaryValueType(type) is { } valueType)
        {
            return Walk(valueType, segments, index + 1);
        }

        if (ElementType(type) is { } elementType)
        {
            return int.TryParse(segment, out var i) && i >= 0
                ? Walk(elementType, segments, index + 1)
                : $"{type.Name} is a list: segment \"{segment}\" must be an index";
        }

        var property = type.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        if (property is null)
        {
            var known = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name).Order();
            return $"{type.Name} has no property \"{segment}\" (has {string.Join(", ", known)})";
        }

        var bindable = property.SetMethod is { IsPublic: true } || (!IsValue(property.PropertyType) && property.GetMethod is { IsPublic: true });
        return bindable ? Walk(property.PropertyType, segments, index + 1) : $"{type.Name}.{property.Name} cannot be bound (no public setter)";
    }

    private static bool IsValue(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
            || type == typeof(DateTimeOffset) || type == typeof(DateTime) || type == typeof(Uri) || type == typeof(Guid);
    }

    private static Type? ElementType(Type type)
    {
        if (type == typeof(string))
        {
            return null;
        }

        if (type.IsArray)
        {
            return type.GetElementType();
        }

        return type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) && type.GetGenericArguments().Length == 1
            ? type.GetGenericArguments()[0]
            : null;
    }

    private static Type? DictionaryValueType(Type type) =>
        type.IsGenericType && type.GetGenericArguments().Length == 2 && typeof(IDictionary).IsAssignableFrom(type)
            ? type.GetGenericArguments()[1]
            : null;
}

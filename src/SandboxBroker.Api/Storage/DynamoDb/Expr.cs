using Amazon.DynamoDBv2.Model;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>
/// Collects the placeholders of one request's expressions. Every attribute goes through a #name (status, name,
/// ttl and value are reserved words) and only placeholders that an expression uses are sent (DynamoDB rejects unused ones).
/// </summary>
internal sealed class Expr
{
    private readonly List<string> sets = [];
    private readonly List<string> removes = [];

    public Dictionary<string, string> Names { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, AttributeValue> Values { get; } = new(StringComparer.Ordinal);

    /// <summary>The #placeholder of an attribute name (reused when the same attribute appears again).</summary>
    public string Attr(string attribute)
    {
        foreach (var (placeholder, name) in Names)
        {
            if (name == attribute)
            {
                return placeholder;
            }
        }

        var created = "#n" + Names.Count;
        Names[created] = attribute;
        return created;
    }

    /// <summary>The :placeholder of a value.</summary>
    public string Val(AttributeValue value)
    {
        var created = ":v" + Values.Count;
        Values[created] = value;
        return created;
    }

    public string Val(string value) => Val(SandboxItem.S(value));

    public string Val(long value) => Val(SandboxItem.N(value));

    public string Val(double value) => Val(SandboxItem.N(value));

    public Expr Set(string attribute, AttributeValue value)
    {
        sets.Add($"{Attr(attribute)} = {Val(value)}");
        return this;
    }

    public Expr Set(string attribute, string value) => Set(attribute, SandboxItem.S(value));

    public Expr Set(string attribute, long value) => Set(attribute, SandboxItem.N(value));

    public Expr SetRaw(string clause)
    {
        sets.Add(clause);
        return this;
    }

    public Expr Remove(string attribute)
    {
        removes.Add(Attr(attribute));
        return this;
    }

    /// <summary>SET when the value is present, otherwise leave the attribute as it is.</summary>
    public Expr SetIfPresent(string attribute, long? value) => value is { } v ? Set(attribute, v) : this;

    public Expr SetIfPresent(string attribute, string? value) => value is not null ? Set(attribute, value) : this;

    /// <summary>SET when present, REMOVE when null (the SQL stores NULL).</summary>
    public Expr SetOrRemove(string attribute, string? value) => value is not null ? Set(attribute, value) : Remove(attribute);

    public string Update()
    {
        var clauses = new List<string>(2);
        if (sets.Count > 0)
        {
            clauses.Add("SET " + string.Join(", ", sets));
        }

        if (removes.Count > 0)
        {
            clauses.Add("REMOVE " + string.Join(", ", removes));
        }

        return string.Join(' ', clauses);
    }

    /// <summary>Null when empty: the SDK must not send an empty map.</summary>
    public Dictionary<string, string>? NamesOrNull => Names.Count > 0 ? Names : null;

    public Dictionary<string, AttributeValue>? ValuesOrNull => Values.Count > 0 ? Values : null;
}

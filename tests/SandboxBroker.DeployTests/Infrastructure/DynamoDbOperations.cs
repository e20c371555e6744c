using System.Text.RegularExpressions;

namespace SandboxBroker.DeployTests.Infrastructure;

/// <summary>
/// The DynamoDB operations the broker's source calls, read from every .cs file under src/SandboxBroker.Api that
/// imports Amazon.DynamoDBv2: request types (QueryRequest), client calls (QueryAsync), paginators, and the
/// items of a transaction (Put, Update, Delete, ConditionCheck need their own item permission).
/// </summary>
internal static partial class DynamoDbOperations
{
    /// <summary>DynamoDB API operations that map one-to-one to an IAM action.</summary>
    private static readonly string[] Known =
    [
        "BatchExecuteStatement", "BatchGetItem", "BatchWriteItem", "CreateBackup", "CreateGlobalTable", "CreateTable",
        "DeleteBackup", "DeleteItem", "DeleteTable", "DescribeBackup", "DescribeContinuousBackups", "DescribeLimits",
        "DescribeTable", "DescribeTimeToLive", "ExecuteStatement", "ExecuteTransaction", "GetItem", "ListTables",
        "ListTagsOfResource", "PutItem", "Query", "RestoreTableFromBackup", "RestoreTableToPointInTime", "Scan",
        "TagResource", "TransactGetItems", "TransactWriteItems", "UntagResource", "UpdateContinuousBackups", "UpdateItem",
        "UpdateTable", "UpdateTimeToLive",
    ];

    /// <summary>
    /// Table management: used only by Storage:DynamoDb:CreateTable=true (dev and tests). Production tables come from
    /// Terraform, so the task role must not have them, and the task definition must not set CreateTable.
    /// </summary>
    public static readonly IReadOnlySet<string> TableManagement = new HashSet<string>(StringComparer.Ordinal)
    {
        "CreateTable", "UpdateTable", "DeleteTable", "DescribeTimeToLive", "UpdateTimeToLive", "DescribeContinuousBackups",
        "UpdateContinuousBackups", "ListTables", "TagResource", "UntagResource", "ListTagsOfResource",
    };

    /// <summary>Operation name to the source files (relative) that use it.</summary>
    public static IReadOnlyDictionary<string, SortedSet<string>> UsedBy(string sourceRoot)
    {
        var used = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(sourceRoot, "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            {
                continue;
            }

            var text = File.ReadAllText(file);
            if (!text.Contains("Amazon.DynamoDBv2", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var operation in Operations(text))
            {
                if (!used.TryGetValue(operation, out var files))
                {
                    used[operation] = files = new SortedSet<string>(StringComparer.Ordinal);
                }

                files.Add(Path.GetRelativePath(sourceRoot, file).Replace('\\', '/'));
            }
        }

        return used;
    }

    private static IEnumerable<string> Operations(string text)
    {
        foreach (Match m in Call().Matches(text))
        {
            var name = m.Groups["op"].Value;
            if (Known.Contains(name, StringComparer.Ordinal))
            {
                yield return name;
            }
        }

        foreach (Match m in TransactionItem().Matches(text))
        {
            yield return m.Groups["item"].Value switch
            {
                "Put" => "PutItem",
                "Update" => "UpdateItem",
                "Delete" => "DeleteItem",
                _ => "ConditionCheckItem",
            };
        }
    }

    // QueryRequest, .QueryAsync(, Paginators.Query(
    [GeneratedRegex(@"\b(?<op>[A-Z][A-Za-z]+)Request\b|\.(?<op>[A-Z][A-Za-z]+)Async\s*\(|\bPaginators\.(?<op>[A-Z][A-Za-z]+)\s*\(")]
    private static partial Regex Call();

    // new TransactWriteItem { Put = new Put { ... } } and friends; "new Put" alone also counts.
    [GeneratedRegex(@"\b(?<item>Put|Update|Delete|ConditionCheck)\s*=\s*new\b|\bnew\s+(?<item>Put|Update|Delete|ConditionCheck)\b\s*[({]")]
    private static partial Regex TransactionItem();
}

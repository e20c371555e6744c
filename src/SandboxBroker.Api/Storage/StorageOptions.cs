using System.ComponentModel.DataAnnotations;

namespace SandboxBroker.Api.Storage;

/// <summary>Section "Storage".</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";
    public const string SqliteProvider = "Sqlite";
    public const string DynamoDbProvider = "DynamoDb";

    /// <summary>Sqlite or DynamoDb; when empty the store is chosen by <see cref="StoreSelection"/>.</summary>
    public string? Provider { get; set; }

    public SqliteStorageOptions Sqlite { get; set; } = new();

    public DynamoDbStorageOptions DynamoDb { get; set; } = new();
}

public sealed class SqliteStorageOptions
{
    /// <summary>Relative paths are under the content root.</summary>
    [Required]
    public string Path { get; set; } = "data/sandbox-broker.db";
}

public sealed class DynamoDbStorageOptions
{
    [Required, RegularExpression("^[A-Za-z0-9_.-]{3,255}$")]
    public string TableName { get; set; } = DynamoDb.TableLayout.DefaultTableName;

    /// <summary>Endpoint override, e.g. DynamoDB Local on http://127.0.0.1:8000.</summary>
    public string? ServiceUrl { get; set; }

    public string? Region { get; set; }

    /// <summary>Create the table (and wait for it and its indexes to be ACTIVE) at start-up: dev and tests.</summary>
    public bool CreateTable { get; set; }

    /// <summary>Bound on one DynamoDB request, so a store stall becomes a prompt 503.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);

    [Range(0, 10)]
    public int MaxRetries { get; set; } = 2;
}

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

    /// <summary>
    /// Replicas sharing the table and this one's index among them (0-based): each replica reads its own share of the
    /// available shards first and the others only when its own run short, so replicas rarely race for one sandbox.
    /// 1 (the default) = every shard is this replica's own. A wrong value costs conflicts, never correctness.
    /// </summary>
    [Range(1, DynamoDb.TableLayout.AvailShardCount)]
    public int Replicas { get; set; } = 1;

    [Range(0, DynamoDb.TableLayout.AvailShardCount - 1)]
    public int ReplicaIndex { get; set; }

    /// <summary>DynamoDB requests in flight at once for allocation and the holder's calls (per process).</summary>
    [Range(1, 1024)]
    public int MaxInFlight { get; set; } = 16;

    /// <summary>
    /// DynamoDB requests in flight at once for background and admin reads (pool gauges, stats, listings, job passes):
    /// their own gate, so a large count or listing never queues allocations behind it.
    /// </summary>
    [Range(1, 1024)]
    public int MaxBackgroundInFlight { get; set; } = 4;

    /// <summary>Null when the values fit together (DataAnnotations does not validate nested options, so start-up calls this).</summary>
    public string? Problem() =>
        Replicas is < 1 or > DynamoDb.TableLayout.AvailShardCount ? $"Storage:DynamoDb:Replicas must be 1..{DynamoDb.TableLayout.AvailShardCount}, not {Replicas}"
        : ReplicaIndex < 0 || ReplicaIndex >= Replicas ? $"Storage:DynamoDb:ReplicaIndex must be 0..{Replicas - 1} (Replicas = {Replicas}), not {ReplicaIndex}"
        : MaxInFlight is < 1 or > 1024 ? $"Storage:DynamoDb:MaxInFlight must be 1..1024, not {MaxInFlight}"
        : MaxBackgroundInFlight is < 1 or > 1024 ? $"Storage:DynamoDb:MaxBackgroundInFlight must be 1..1024, not {MaxBackgroundInFlight}"
        : null;
}

using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using static SandboxBroker.Api.Storage.DynamoDb.TableLayout;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>The CreateTable request matching <see cref="TableLayout"/> and infra/dynamodb.tf (dev and tests create tables with it).</summary>
internal static class TableDefinition
{
    public static readonly IReadOnlyList<GlobalSecondaryIndex> Indexes =
    [
        Index(StatusIndex, Status, AllocatedAt),
        Index(TrackIndex, AllocatedToTrack, AllocatedAt),
        Index(IdempotencyIndex, IdempotencyKey, AllocatedAt),
        Index(AvailableIndex, AvailShard, Name),
    ];

    public static CreateTableRequest Create(string table) => new()
    {
        TableName = table,
        BillingMode = BillingMode.PAY_PER_REQUEST,
        KeySchema =
        [
            new KeySchemaElement(PartitionKey, KeyType.HASH),
            new KeySchemaElement(TableLayout.SortKey, KeyType.RANGE),
        ],
        AttributeDefinitions =
        [
            Attribute(PartitionKey, ScalarAttributeType.S),
            Attribute(TableLayout.SortKey, ScalarAttributeType.S),
            .. IndexAttributes(),
        ],
        GlobalSecondaryIndexes = [.. Indexes.Select(Copy)],
    };

    /// <summary>Adds one missing index to an existing table (an original table has no AvailableIndex).</summary>
    public static UpdateTableRequest AddIndex(string table, GlobalSecondaryIndex index, bool provisioned)
    {
        var create = new CreateGlobalSecondaryIndexAction
        {
            IndexName = index.IndexName,
            KeySchema = index.KeySchema,
            Projection = index.Projection,
        };
        if (provisioned)
        {
            create.ProvisionedThroughput = new ProvisionedThroughput { ReadCapacityUnits = 5, WriteCapacityUnits = 5 };
        }

        return new UpdateTableRequest
        {
            TableName = table,
            AttributeDefinitions = IndexAttributes(),
            GlobalSecondaryIndexUpdates = [new GlobalSecondaryIndexUpdate { Create = create }],
        };
    }

    private static List<AttributeDefinition> IndexAttributes() =>
    [
        Attribute(Status, ScalarAttributeType.S),
        Attribute(AllocatedAt, ScalarAttributeType.N),
        Attribute(AllocatedToTrack, ScalarAttributeType.S),
        Attribute(IdempotencyKey, ScalarAttributeType.S),
        Attribute(AvailShard, ScalarAttributeType.S),
        Attribute(Name, ScalarAttributeType.S),
    ];

    private static GlobalSecondaryIndex Index(string name, string hash, string range) => new()
    {
        IndexName = name,
        KeySchema = [new KeySchemaElement(hash, KeyType.HASH), new KeySchemaElement(range, KeyType.RANGE)],
        Projection = new Projection { ProjectionType = ProjectionType.ALL },
    };

    private static GlobalSecondaryIndex Copy(GlobalSecondaryIndex index) => new()
    {
        IndexName = index.IndexName,
        KeySchema = index.KeySchema,
        Projection = index.Projection,
    };

    private static AttributeDefinition Attribute(string name, ScalarAttributeType type) => new(name, type);
}

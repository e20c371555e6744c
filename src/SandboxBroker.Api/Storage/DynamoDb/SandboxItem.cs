using System.Globalization;
using Amazon.DynamoDBv2.Model;
using SandboxBroker.Api.Sandboxes;
using static SandboxBroker.Api.Storage.DynamoDb.TableLayout;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>Maps sandbox items (PK = SBX#id, SK = META) to and from <see cref="Sandbox"/>, tolerant of the original's items.</summary>
internal static class SandboxItem
{
    public static Dictionary<string, AttributeValue> Key(string sandboxId) => new()
    {
        [PartitionKey] = S(SandboxPkPrefix + sandboxId),
        [TableLayout.SortKey] = S(SandboxSk),
    };

    public static Dictionary<string, AttributeValue> IdempotencyKeyOf(string requester, string key) => new()
    {
        [PartitionKey] = S(IdempotencyPkPrefix + requester),
        [TableLayout.SortKey] = S(IdempotencySkPrefix + key),
    };

    /// <summary>A new available sandbox, in the original's shape plus avail_shard.</summary>
    public static Dictionary<string, AttributeValue> NewAvailable(UpstreamSandbox sandbox, long now)
    {
        var item = Key(sandbox.SandboxId);
        item[SandboxId] = S(sandbox.SandboxId);
        item[Name] = S(sandbox.Name);
        item[ExternalId] = S(sandbox.ExternalId);
        item[Status] = S(SandboxStatusNames.Available);
        item[AllocatedAt] = N(0);
        item[LabDurationHours] = N(Sandbox.DefaultLabDurationHours);
        item[DeletionRetryCount] = N(0);
        item[LastSynced] = N(now);
        item[CreatedAt] = N(sandbox.CreatedAt > 0 ? sandbox.CreatedAt : now);
        item[UpdatedAt] = N(now);
        item[AvailShard] = S(RandomShard());
        if (!string.IsNullOrEmpty(sandbox.SfdcAccountId))
        {
            item[SfdcAccountId] = S(sandbox.SfdcAccountId);
        }

        return item;
    }

    public static string RandomShard() => Random.Shared.Next(AvailShardCount).ToString(CultureInfo.InvariantCulture);

    public static bool IsSandbox(Dictionary<string, AttributeValue>? item) =>
        item is not null && Str(item, PartitionKey) is { } pk && pk.StartsWith(SandboxPkPrefix, StringComparison.Ordinal)
        && Str(item, TableLayout.SortKey) == SandboxSk;

    /// <summary>Null for anything that is not a sandbox item with a known status (other item kinds, foreign data).</summary>
    public static Sandbox? FromItem(Dictionary<string, AttributeValue>? item)
    {
        if (!IsSandbox(item) || !SandboxStatusNames.TryParse(Str(item!, Status), out var status))
        {
            return null;
        }

        var allocatedAt = Long(item!, AllocatedAt) ?? 0;
        return new Sandbox
        {
            SandboxId = Str(item!, SandboxId) ?? Str(item!, PartitionKey)![SandboxPkPrefix.Length..],
            Name = Str(item!, Name) ?? "",
            ExternalId = Str(item!, ExternalId) ?? "",
            Status = status,
            AllocatedTo = Str(item!, AllocatedToTrack),
            AllocatedAt = allocatedAt,
            IdempotencyKey = Str(item!, IdempotencyKey),
            TrackName = Str(item!, TrackName),
            ExpiresAt = Long(item!, ExpiresAt), // absent on the original's items: Sandbox.LeaseExpiresAt derives it
            LabDurationHours = Double(item!, LabDurationHours) ?? Sandbox.DefaultLabDurationHours,
            DeletionRequestedAt = Long(item!, DeletionRequestedAt),
            DeletionRetryCount = (int)(Long(item!, DeletionRetryCount) ?? 0),
            LastError = Str(item!, LastError),
            NextAttemptAt = Long(item!, NextAttemptAt),
            LastSynced = Long(item!, LastSynced),
            CreatedAt = Long(item!, CreatedAt) ?? 0,
            UpdatedAt = Long(item!, UpdatedAt) ?? 0,
            SfdcAccountId = Str(item!, SfdcAccountId),
            DeletedAt = Long(item!, DeletedAt),
            AllocatedVia = Str(item!, AllocatedVia),
            DeletionVerifiedAt = Long(item!, DeletionVerifiedAt),
            NiosxaasCleanedAt = Long(item!, NiosxaasCleanedAt),
            NiosxaasCleanupSkipped = item!.TryGetValue(NiosxaasCleanupSkipped, out var skipped) && skipped.BOOL == true,
            NiosxaasCleanupFailedReason = Str(item!, NiosxaasCleanupFailedReason) is { Length: > 0 } reason ? reason : null,
            ReservationId = Str(item!, TableLayout.ReservationId),
            ReservedFor = Str(item!, TableLayout.ReservedFor),
        };
    }

    public static bool Has<T>(ICollection<T>? collection) => collection is { Count: > 0 };

    public static AttributeValue S(string value) => new() { S = value };

    public static AttributeValue N(long value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    public static AttributeValue N(double value) => new() { N = value.ToString("R", CultureInfo.InvariantCulture) };

    public static string? Str(Dictionary<string, AttributeValue> item, string name) =>
        item.TryGetValue(name, out var value) ? value.S : null;

    public static long? Long(Dictionary<string, AttributeValue> item, string name) =>
        item.TryGetValue(name, out var value) && value.N is { } text
            ? long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var whole) ? whole
            : Double(item, name) is { } number ? (long)number : null
            : null;

    /// <summary>Numbers as the original wrote them (integers), or as any other tool did ("4.0", "1.7E9").</summary>
    public static double? Double(Dictionary<string, AttributeValue> item, string name) =>
        item.TryGetValue(name, out var value) && value.N is { } text
        && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : null;
}

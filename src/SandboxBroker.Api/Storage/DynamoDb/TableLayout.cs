namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>
/// The DynamoDB table layout: names shared with the original broker's tools, Terraform
/// (infra/dynamodb.tf) and docs/dynamodb-layout.md. A deploy test checks Terraform against these constants.
/// </summary>
internal static class TableLayout
{
    public const string DefaultTableName = "SandboxPool";

    // Keys (strings).
    public const string PartitionKey = "PK";
    public const string SortKey = "SK";

    // Item kinds.
    public const string SandboxPkPrefix = "SBX#";
    public const string SandboxSk = "META";
    public const string IdempotencyPkPrefix = "IDEM#";   // IDEM#<requester>, SK = KEY#<idempotency key>
    public const string IdempotencySkPrefix = "KEY#";
    public const string JobPkPrefix = "JOB#";            // JOB#<job>, SK = LEASE
    public const string JobSk = "LEASE";
    public const string CounterPkPrefix = "COUNTER#";    // COUNTER#<name>, SK = META
    public const string AccountPkPrefix = "ACCT#";       // ACCT#<external_id>, SK = META: the sandbox id that holds the account
    public const string JobRunPkPrefix = "JOBRUN#";      // JOBRUN#<job>, SK = <run_id> (sorts by start time)
    public const string ReservationPk = "RESERVATION";   // one partition: SK = <reservation_id>, so listing is one Query

    // Global secondary indexes: name, hash key, range key.
    public const string StatusIndex = "StatusIndex";            // status (S), allocated_at (N)
    public const string TrackIndex = "TrackIndex";              // allocated_to_track (S), allocated_at (N)
    public const string IdempotencyIndex = "IdempotencyIndex";  // idempotency_key (S), allocated_at (N)
    /// <summary>Sparse: only available sandboxes carry avail_shard, so a query reads available items only, spread over shards.</summary>
    public const string AvailableIndex = "AvailableIndex";      // avail_shard (S), name (S)

    // Attributes shared with the original.
    public const string SandboxId = "sandbox_id";
    public const string Name = "name";
    public const string ExternalId = "external_id";
    public const string Status = "status";
    public const string AllocatedToTrack = "allocated_to_track";
    public const string AllocatedAt = "allocated_at";
    public const string IdempotencyKey = "idempotency_key";
    public const string TrackName = "track_name";
    public const string LabDurationHours = "lab_duration_hours";
    public const string DeletionRequestedAt = "deletion_requested_at";
    public const string DeletionRetryCount = "deletion_retry_count";
    public const string LastSynced = "last_synced";
    public const string CreatedAt = "created_at";
    public const string UpdatedAt = "updated_at";
    public const string SfdcAccountId = "sfdc_account_id";
    public const string AllocatedVia = "allocated_via";
    public const string NiosxaasCleanedAt = "niosxaas_cleaned_at";
    public const string NiosxaasCleanupSkipped = "niosxaas_cleanup_skipped";
    public const string NiosxaasCleanupFailedReason = "niosxaas_cleanup_failed_reason";

    // Attributes this broker adds.
    public const string ExpiresAt = "expires_at";
    public const string LastError = "last_error";
    public const string NextAttemptAt = "next_attempt_at";
    public const string DeletedAt = "deleted_at";
    public const string DeletionVerifiedAt = "deletion_verified_at";
    public const string AvailShard = "avail_shard";
    /// <summary>
    /// avail_shard of a reserved sandbox: R#&lt;lab&gt;. AvailableIndex then lists a lab's reserved sandboxes in their
    /// own partition, which no general-pool window (shards "0".."15") ever reads.
    /// </summary>
    public const string ReservedShardPrefix = "R#";
    /// <summary>
    /// avail_shard of a tombstone no sync has yet verified gone upstream: AvailableIndex then lists exactly those in one
    /// partition, so counting unverified deletions reads them only, never the tombstones (issue 20 item 3).
    /// </summary>
    public const string UnverifiedShard = "U#";
    public const string ReservationId = "reservation_id";
    public const string ReservedFor = "reserved_for";
    public const string ReservationRecord = "reservation";
    /// <summary>The sandbox's history: a list of event maps inside the sandbox item, newest last.</summary>
    public const string History = "history";
    /// <summary>DynamoDB TTL attribute (epoch seconds): set on tombstones that may expire.</summary>
    public const string Ttl = "ttl";

    /// <summary>avail_shard values are "0" .. (AvailShardCount - 1); readers walk all of them, so only ever raise it.</summary>
    public const int AvailShardCount = 16;

    // Attributes of the other item kinds (they carry no status, so they are in no index).
    /// <summary>On IDEM# items: the sandbox this (requester, key) holds. Not sandbox_id, so scans by sandbox_id never see it.</summary>
    public const string IdempotencySandboxId = "idem_sandbox_id";
    /// <summary>On ACCT# markers: the sandbox that holds the CSP account. Not sandbox_id, for the same reason.</summary>
    public const string AccountSandboxId = "account_sandbox_id";
    public const string CounterValue = "counter_value";
    public const string JobName = "job";
    public const string LeaseOwner = "lease_owner";
    public const string LeaseExpiresAt = "lease_expires_at";
    public const string LastRunAt = "last_run_at";
    public const string LastFinishedAt = "last_finished_at";
    public const string LastOutcome = "last_outcome";
    public const string LastDurationMs = "last_duration_ms";
    public const string LastSuccessAt = "last_success_at";
    /// <summary>One item (PK = JOBINDEX, SK = META) whose string set <see cref="JobNames"/> names every job, so /jobs needs no Scan.</summary>
    public const string JobIndexPk = "JOBINDEX";
    public const string JobNames = "jobs";
    /// <summary>On JOB# items: the run that took the lease last.</summary>
    public const string CurrentRunId = "current_run_id";
    // On JOBRUN# items (a run's record).
    public const string RunId = "run_id";
    public const string Trigger = "trigger";
    public const string Instance = "instance";
    public const string StartedAt = "started_at";
    public const string FinishedAt = "finished_at";
    public const string Outcome = "outcome";
    public const string Counts = "counts";

    public static readonly string[] GlobalSecondaryIndexes = [StatusIndex, TrackIndex, IdempotencyIndex, AvailableIndex];
}

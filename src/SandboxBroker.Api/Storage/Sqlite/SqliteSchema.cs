namespace SandboxBroker.Api.Storage.Sqlite;

/// <summary>Schema of the embedded store; column names follow the DynamoDB attribute names.</summary>
internal static class SqliteSchema
{
    public const string Columns =
        "sandbox_id, name, external_id, status, allocated_to_track, allocated_at, idempotency_key, track_name, " +
        "expires_at, lab_duration_hours, deletion_requested_at, deletion_retry_count, last_error, next_attempt_at, " +
        "last_synced, created_at, updated_at, sfdc_account_id, deleted_at, " +
        "deletion_verified_at, niosxaas_cleaned_at, niosxaas_cleanup_skipped, niosxaas_cleanup_failed_reason, allocated_via, " +
        "reservation_id, reserved_for";

    public const string ReadSandbox = "SELECT " + Columns + " FROM sandboxes WHERE sandbox_id = $id";

    public const string ReadKey = "SELECT sandbox_id FROM idempotency WHERE requester = $r AND idempotency_key = $k";

    /// <summary>
    /// available → allocated, conditional on the state. No RETURNING: SQLite buffers a RETURNING row in an ephemeral
    /// table (a pager and page cache set up and torn down per statement, ~4 % of the broker's CPU in a wrk run), so the
    /// claim reads its row back by key instead, in the same transaction.
    /// </summary>
    public static readonly string Claim =
        "UPDATE sandboxes SET status = 'allocated', allocated_to_track = $r, allocated_at = $now, idempotency_key = $k, " +
        "track_name = $track, expires_at = $exp, lab_duration_hours = $hours, updated_at = $now, allocated_via = $via, " + SqliteHistory.Append + " " +
        "WHERE sandbox_id = $id AND status = 'available'";

    /// <summary>reserved (for the caller's lab) → allocated, conditional on both; keeps reservation_id (its allocated count).</summary>
    public static readonly string ClaimReserved =
        "UPDATE sandboxes SET status = 'allocated', allocated_to_track = $r, allocated_at = $now, idempotency_key = $k, " +
        "track_name = $track, expires_at = $exp, lab_duration_hours = $hours, updated_at = $now, allocated_via = $via, reserved_for = NULL, " + SqliteHistory.Append + " " +
        "WHERE sandbox_id = $id AND status = 'reserved' AND reserved_for = $track";

    public const string ReadHistory = "SELECT status, history FROM sandboxes WHERE sandbox_id = $id";



    /// <summary>The (requester, key) record names the claimed sandbox (new, or moved from the released one).</summary>
    public const string RecordKey =
        "INSERT INTO idempotency (requester, idempotency_key, sandbox_id, updated_at) VALUES ($r, $k, $id, $now) " +
        "ON CONFLICT (requester, idempotency_key) DO UPDATE SET sandbox_id = excluded.sandbox_id, updated_at = excluded.updated_at";

    public const string Create = """
        CREATE TABLE IF NOT EXISTS sandboxes (
            sandbox_id TEXT NOT NULL PRIMARY KEY,
            name TEXT NOT NULL,
            external_id TEXT NOT NULL,
            status TEXT NOT NULL,
            allocated_to_track TEXT,
            allocated_at INTEGER NOT NULL DEFAULT 0,
            idempotency_key TEXT,
            track_name TEXT,
            expires_at INTEGER,
            lab_duration_hours REAL NOT NULL,
            deletion_requested_at INTEGER,
            deletion_retry_count INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at INTEGER,
            last_synced INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            sfdc_account_id TEXT,
            deleted_at INTEGER,
            allocated_via TEXT,
            rnd INTEGER NOT NULL,
            history TEXT NOT NULL DEFAULT '[]',
            deletion_verified_at INTEGER,
            niosxaas_cleaned_at INTEGER,
            niosxaas_cleanup_skipped INTEGER NOT NULL DEFAULT 0,
            niosxaas_cleanup_failed_reason TEXT
        );
        DROP INDEX IF EXISTS ix_sandboxes_status_rnd;
        DROP INDEX IF EXISTS ix_sandboxes_candidates;
        CREATE INDEX IF NOT EXISTS ix_sandboxes_status_name ON sandboxes(status, name);
        CREATE INDEX IF NOT EXISTS ix_sandboxes_status_id ON sandboxes(status, sandbox_id);
        CREATE INDEX IF NOT EXISTS ix_sandboxes_holder ON sandboxes(allocated_to_track);
        CREATE INDEX IF NOT EXISTS ix_sandboxes_external_id ON sandboxes(external_id);
        CREATE TABLE IF NOT EXISTS idempotency (
            requester TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            sandbox_id TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (requester, idempotency_key)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS sequences (
            name TEXT NOT NULL PRIMARY KEY,
            value INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS jobs (
            job TEXT NOT NULL PRIMARY KEY,
            lease_owner TEXT,
            lease_expires_at INTEGER NOT NULL DEFAULT 0,
            last_run_at INTEGER NOT NULL DEFAULT 0,
            last_finished_at INTEGER,
            last_outcome TEXT,
            last_duration_ms INTEGER,
            last_success_at INTEGER,
            current_run_id TEXT
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS job_runs (
            run_id TEXT NOT NULL PRIMARY KEY,
            job TEXT NOT NULL,
            record TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS ix_job_runs_job ON job_runs(job, run_id);
        CREATE INDEX IF NOT EXISTS ix_sandboxes_status_allocated ON sandboxes(status, allocated_at);
        CREATE TABLE IF NOT EXISTS reservations (
            reservation_id TEXT NOT NULL PRIMARY KEY,
            status TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            record TEXT NOT NULL
        ) WITHOUT ROWID;
        """;

    /// <summary>
    /// Statements that need the added columns: run after <see cref="AddedColumns"/>. The candidate indexes are partial
    /// (only rows in the state they serve): an allocation then deletes one entry at the low end of
    /// ix_sandboxes_available and inserts none, instead of moving an entry between two random places of an index keyed
    /// by (status, random) — with one writer a random window buys nothing and made the cost grow with the pool.
    /// </summary>
    public const string AfterMigration = """
        DROP INDEX IF EXISTS ix_sandboxes_reserved;
        CREATE INDEX IF NOT EXISTS ix_sandboxes_reserved_for ON sandboxes(reserved_for, rnd, sandbox_id) WHERE status = 'reserved';
        CREATE INDEX IF NOT EXISTS ix_sandboxes_available ON sandboxes(name, sandbox_id) WHERE status = 'available';
        CREATE INDEX IF NOT EXISTS ix_sandboxes_reservation ON sandboxes(reservation_id) WHERE reservation_id IS NOT NULL;
        """;

    /// <summary>Columns added after the first release: (table, column, definition), added at start-up when missing.</summary>
    public static readonly (string Table, string Column, string Definition)[] AddedColumns =
    [
        ("sandboxes", "history", "TEXT NOT NULL DEFAULT '[]'"),
        ("jobs", "current_run_id", "TEXT"),
        ("sandboxes", "allocated_via", "TEXT"),
        ("sandboxes", "deletion_verified_at", "INTEGER"),
        ("sandboxes", "niosxaas_cleaned_at", "INTEGER"),
        ("sandboxes", "niosxaas_cleanup_skipped", "INTEGER NOT NULL DEFAULT 0"),
        ("sandboxes", "niosxaas_cleanup_failed_reason", "TEXT"),
        ("sandboxes", "reservation_id", "TEXT"),
        ("sandboxes", "reserved_for", "TEXT"),
    ];
}

namespace SandboxBroker.Api.Storage.Sqlite;

/// <summary>Schema of the embedded store; column names follow the DynamoDB attribute names.</summary>
internal static class SqliteSchema
{
    public const string Columns =
        "sandbox_id, name, external_id, status, allocated_to_track, allocated_at, idempotency_key, track_name, " +
        "expires_at, lab_duration_hours, deletion_requested_at, deletion_retry_count, last_error, next_attempt_at, " +
        "last_synced, created_at, updated_at, sfdc_account_id, deleted_at";

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
            lab_duration_hours REAL NOT NULL DEFAULT 4,
            deletion_requested_at INTEGER,
            deletion_retry_count INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at INTEGER,
            last_synced INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            sfdc_account_id TEXT,
            deleted_at INTEGER,
            rnd INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS ix_sandboxes_status_rnd ON sandboxes(status, rnd);
        CREATE INDEX IF NOT EXISTS ix_sandboxes_status_name ON sandboxes(status, name);
        CREATE INDEX IF NOT EXISTS ix_sandboxes_status_id ON sandboxes(status, sandbox_id);
        CREATE INDEX IF NOT EXISTS ix_sandboxes_holder ON sandboxes(allocated_to_track);
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
            last_success_at INTEGER
        ) WITHOUT ROWID;
        """;
}

using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Data.Sqlite;
using static SandboxBroker.Api.Storage.Sqlite.SqliteRows;

namespace SandboxBroker.Api.Storage.Sqlite;

/// <summary>Run locks and job state: one row per job, changed only by conditional writes.</summary>
internal sealed partial class SqliteSandboxStore
{
    private const string JobColumns =
        "job, lease_owner, lease_expires_at, last_run_at, last_finished_at, last_outcome, last_duration_ms, last_success_at, current_run_id";

    public Task<bool> TryAcquireJobLeaseAsync(JobLeaseRequest request, CancellationToken ct) =>
        WriteAsync(connection =>
        {
            using var transaction = connection.BeginTransaction();
            using var insert = Command(connection,
                "INSERT INTO jobs (job, lease_owner, lease_expires_at, last_run_at, current_run_id) VALUES ($job, $owner, $until, $now, $run) " +
                "ON CONFLICT (job) DO UPDATE SET lease_owner = $owner, lease_expires_at = $until, last_run_at = $now, current_run_id = $run " +
                "WHERE (jobs.lease_expires_at <= $now OR jobs.lease_owner = $owner) AND ($expected IS NULL OR jobs.last_run_at = $expected)",
                ("$job", request.Job), ("$owner", request.Owner), ("$until", request.LeaseUntil), ("$now", request.Now),
                ("$expected", request.ExpectedLastRunAt), ("$run", request.RunId));
            insert.Transaction = transaction;
            // An absent row counts as last_run_at = 0: a CAS expecting another value must not create it.
            if (request.ExpectedLastRunAt is > 0 && ReadJob(connection, transaction, request.Job) is null)
            {
                return false;
            }

            var taken = insert.ExecuteNonQuery() == 1;
            transaction.Commit();
            return taken;
        }, ct);

    public Task<bool> RenewJobLeaseAsync(string job, string owner, long leaseUntil, CancellationToken ct) =>
        WriteAsync(connection =>
        {
            using var command = Command(connection,
                "UPDATE jobs SET lease_expires_at = $until WHERE job = $job AND lease_owner = $owner",
                ("$job", job), ("$owner", owner), ("$until", leaseUntil));
            return command.ExecuteNonQuery() == 1;
        }, ct);

    public Task CompleteJobAsync(JobCompletion completion, CancellationToken ct) =>
        WriteAsync(connection =>
        {
            using var command = Command(connection,
                "UPDATE jobs SET lease_owner = NULL, lease_expires_at = 0, last_finished_at = $at, last_outcome = $outcome, " +
                "last_duration_ms = $ms, last_success_at = CASE WHEN $ok THEN $at ELSE last_success_at END " +
                "WHERE job = $job AND lease_owner = $owner",
                ("$job", completion.Job), ("$owner", completion.Owner), ("$at", completion.FinishedAt),
                ("$outcome", completion.Outcome), ("$ms", completion.DurationMs), ("$ok", completion.Succeeded));
            return command.ExecuteNonQuery();
        }, ct);

    public async Task<JobState?> GetJobStateAsync(string job, CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        return ReadJob(connection, null, job);
    }

    public async Task<IReadOnlyList<JobState>> ListJobStatesAsync(CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        using var command = Command(connection, $"SELECT {JobColumns} FROM jobs ORDER BY job");
        using var reader = command.ExecuteReader();
        var result = new List<JobState>();
        while (reader.Read())
        {
            result.Add(MapJob(reader));
        }

        return result;
    }

    private static JobState? ReadJob(SqliteConnection connection, SqliteTransaction? transaction, string job)
    {
        using var command = Command(connection, $"SELECT {JobColumns} FROM jobs WHERE job = $job", ("$job", job));
        command.Transaction = transaction;
        using var reader = command.ExecuteReader();
        return reader.Read() ? MapJob(reader) : null;
    }

    private static JobState MapJob(SqliteDataReader r) => new()
    {
        Job = r.GetString(0),
        LeaseOwner = r.IsDBNull(1) ? null : r.GetString(1),
        LeaseExpiresAt = r.GetInt64(2),
        LastRunAt = r.GetInt64(3),
        LastFinishedAt = r.IsDBNull(4) ? null : r.GetInt64(4),
        LastOutcome = r.IsDBNull(5) ? null : r.GetString(5),
        LastDurationMs = r.IsDBNull(6) ? null : r.GetInt64(6),
        LastSuccessAt = r.IsDBNull(7) ? null : r.GetInt64(7),
        CurrentRunId = r.IsDBNull(8) ? null : r.GetString(8),
    };

    public Task SaveJobRunAsync(JobRun run, CancellationToken ct) =>
        WriteAsync(connection =>
        {
            using var transaction = connection.BeginTransaction();
            using var save = Command(connection,
                "INSERT INTO job_runs (run_id, job, record) VALUES ($id, $job, $record) ON CONFLICT (run_id) DO UPDATE SET record = $record",
                ("$id", run.RunId), ("$job", run.Job), ("$record", JsonSerializer.Serialize(run, JobRunJsonContext.Default.JobRun)));
            save.Transaction = transaction;
            save.ExecuteNonQuery();
            using var trim = Command(connection,
                "DELETE FROM job_runs WHERE job = $job AND run_id NOT IN " +
                "(SELECT run_id FROM job_runs WHERE job = $job ORDER BY run_id DESC LIMIT $keep)",
                ("$job", run.Job), ("$keep", JobRun.KeptPerJob));
            trim.Transaction = transaction;
            trim.ExecuteNonQuery();
            transaction.Commit();
            return true;
        }, ct);

    public async Task<JobRun?> GetJobRunAsync(string runId, CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        await using var command = Command(connection, "SELECT record FROM job_runs WHERE run_id = $id", ("$id", runId));
        return await command.ExecuteScalarAsync(ct) is string record ? JsonSerializer.Deserialize(record, JobRunJsonContext.Default.JobRun) : null;
    }

    public async Task<IReadOnlyList<JobRun>> ListJobRunsAsync(string job, int limit, CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        await using var command = Command(connection,
            "SELECT record FROM job_runs WHERE job = $job ORDER BY run_id DESC LIMIT $limit", ("$job", job), ("$limit", limit));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var runs = new List<JobRun>();
        while (await reader.ReadAsync(ct))
        {
            runs.Add(JsonSerializer.Deserialize(reader.GetString(0), JobRunJsonContext.Default.JobRun)!);
        }

        return runs;
    }
}

/// <summary>The stored shape of a run record on the embedded store.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(JobRun))]
internal sealed partial class JobRunJsonContext : JsonSerializerContext;

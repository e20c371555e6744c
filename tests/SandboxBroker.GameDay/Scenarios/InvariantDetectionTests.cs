using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using SandboxBroker.GameDay.Infrastructure;

namespace SandboxBroker.GameDay.Scenarios;

/// <summary>
/// The other half of "zero violations": the broker's own GET /v1/admin/invariants and broker_invariant_violations
/// do report a store that was broken behind its back (records edited in its SQLite file while it runs).
/// </summary>
[Collection(GameDayCollection.Name)]
public sealed partial class InvariantDetectionTests(GameDayFixture fixture)
{
    [Fact]
    public async Task The_running_broker_reports_records_corrupted_behind_its_back_and_sets_the_metric()
    {
        var path = fixture.NewPath("detect");
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var ct = deadline.Token;
        var traffic = new Traffic(new ScenarioRow("detection", "SQLite"));
        await using var broker = await BrokerNode.StartAsync(traffic, BrokerNode.OnSqlite(path, 30));
        await broker.WaitForAvailableAsync(30, TimeSpan.FromMinutes(1), ct);
        var held = new Dictionary<string, string>();
        foreach (var student in new[] { "det-a", "det-b", "det-c" })
        {
            var answer = await broker.AllocateAsync(student, ct);
            Assert.Equal(201, answer.Status);
            held[student] = answer.Json().Id();
        }

        var clean = await broker.InvariantsAsync(ct);
        Assert.True(clean.Violations == 0, clean.ToString());
        Assert.Equal(3, clean.Count("allocated"));

        string squatted, doubled;
        await using (var db = new SqliteConnection($"Data Source={path};Default Timeout=30;Pooling=False"))
        {
            await db.OpenAsync(ct);
            var available = new List<string>();
            await using (var read = db.CreateCommand())
            {
                read.CommandText = "SELECT sandbox_id FROM sandboxes WHERE status = 'available' ORDER BY sandbox_id LIMIT 2";
                await using var reader = await read.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    available.Add(reader.GetString(0));
                }
            }

            (squatted, doubled) = (available[0], available[1]);
            await ExecuteAsync(db, "UPDATE sandboxes SET allocated_to_track = 'squatter' WHERE sandbox_id = $id", ("$id", squatted), ct);
            await ExecuteAsync(db,
                "UPDATE sandboxes SET status = 'allocated', allocated_to_track = 'det-a', idempotency_key = 'det-a', allocated_at = 1700000000, " +
                "expires_at = 1700014400 WHERE sandbox_id = $id", ("$id", doubled), ct);
            await ExecuteAsync(db, "DELETE FROM idempotency WHERE requester = 'det-b'", ("$unused", ""), ct);
            await ExecuteAsync(db, "UPDATE sandboxes SET allocated_at = 0 WHERE sandbox_id = $id", ("$id", held["det-c"]), ct);
        }

        var report = await broker.InvariantsAsync(ct);

        // Four broken records, and the record set to allocated behind the broker's back also no longer matches its history.
        Assert.True(report.Violations == 5, report.ToString());
        Assert.Contains(report.Details, d => d.StartsWith("history_replays", StringComparison.Ordinal) && d.Contains(doubled, StringComparison.Ordinal));
        Assert.Contains(report.Details, d => d.StartsWith("unallocated_unheld", StringComparison.Ordinal) && d.Contains(squatted, StringComparison.Ordinal));
        Assert.Contains(report.Details, d => d.StartsWith("one_sandbox_per_key", StringComparison.Ordinal)
            && d.Contains(held["det-a"], StringComparison.Ordinal) && d.Contains(doubled, StringComparison.Ordinal));
        Assert.Contains(report.Details, d => d.StartsWith("replay_finds_sandbox", StringComparison.Ordinal) && d.Contains(held["det-b"], StringComparison.Ordinal));
        Assert.Contains(report.Details, d => d.StartsWith("allocated_complete", StringComparison.Ordinal) && d.Contains(held["det-c"], StringComparison.Ordinal));

        var metrics = await broker.SendAsync(BrokerNode.Request(HttpMethod.Get, "/metrics", null), ct);
        Assert.Equal(200, metrics.Status);
        Assert.Equal("5", MetricLine().Match(metrics.Body).Groups[1].Value);
    }

    private static async Task ExecuteAsync(SqliteConnection db, string sql, (string Name, string Value) parameter, CancellationToken ct)
    {
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        if (sql.Contains(parameter.Name, StringComparison.Ordinal))
        {
            command.Parameters.AddWithValue(parameter.Name, parameter.Value);
        }

        Assert.True(await command.ExecuteNonQueryAsync(ct) > 0, $"no row changed by: {sql}");
    }

    [GeneratedRegex(@"^broker_invariant_violations (\S+)$", RegexOptions.Multiline)]
    private static partial Regex MetricLine();
}

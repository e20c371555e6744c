using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace SandboxBroker.GameDay.Infrastructure;

/// <summary>One row of the results table: what a scenario sent, what it broke on purpose and what it found.</summary>
public sealed class ScenarioRow(string scenario, string store)
{
    private long requests;

    public string Scenario { get; } = scenario;

    public string Store { get; } = store;

    public long Requests => Interlocked.Read(ref requests);

    public List<string> Faults { get; } = [];

    /// <summary>Invariant violations reported by GET /v1/admin/invariants at the end (summed over the checks made).</summary>
    public int InvariantViolations { get; set; }

    /// <summary>How many invariant reports the scenario asked for (0 would make a zero meaningless).</summary>
    public int InvariantChecks { get; set; }

    /// <summary>5xx answers (or no answer at all) outside the windows where a fault was injected on purpose.</summary>
    public long ServerErrorsOutsideFaults { get; set; }

    public List<string> Notes { get; } = [];

    public TimeSpan Duration { get; set; }

    public string Result { get; set; } = "running";

    public void CountRequests(long n) => Interlocked.Add(ref requests, n);

    public void Fault(string description)
    {
        lock (Faults)
        {
            Faults.Add(description);
        }
    }

    public void Note(string note)
    {
        lock (Notes)
        {
            Notes.Add(note);
        }
    }
}

/// <summary>
/// The GameDay results table (Markdown), rewritten after every scenario to TestResults/gameday.md under the repository
/// root (or GAMEDAY_RESULTS), so a run that dies half-way still leaves what it found.
/// </summary>
public static class Scoreboard
{
    private static readonly List<ScenarioRow> Rows = [];
    private static readonly DateTimeOffset Started = DateTimeOffset.UtcNow;

    public static string ResultsPath { get; } = Environment.GetEnvironmentVariable("GAMEDAY_RESULTS") is { Length: > 0 } path
        ? Path.GetFullPath(path)
        : Path.Combine(RepositoryRoot(), "TestResults", "gameday.md");

    /// <summary>
    /// Runs one scenario as a row of the table: the body fills the row; an exception marks it FAIL (and fails the
    /// test). The body gets a token cancelled at <paramref name="limit"/>; past the limit plus a grace the test fails
    /// even if the body ignores it.
    /// </summary>
    public static async Task RunAsync(string scenario, string store, TimeSpan limit, Func<ScenarioRow, CancellationToken, Task> body)
    {
        var row = new ScenarioRow(scenario, store);
        var clock = Stopwatch.StartNew();
        using var deadline = new CancellationTokenSource(limit);
        try
        {
            await body(row, deadline.Token).WaitAsync(limit + TimeSpan.FromSeconds(60));
            row.Result = "pass";
        }
        catch (Exception ex)
        {
            var reason = ex is OperationCanceledException && deadline.IsCancellationRequested
                ? $"did not finish within {limit.TotalSeconds:0} s"
                : ex.Message;
            row.Result = "FAIL: " + FirstLine(reason);
            throw;
        }
        finally
        {
            row.Duration = clock.Elapsed;
            Add(row);
        }
    }

    private static void Add(ScenarioRow row)
    {
        lock (Rows)
        {
            Rows.Add(row);
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(ResultsPath)!);
                File.WriteAllText(ResultsPath, Render());
            }
            catch (IOException)
            {
                // the table is a report; a read-only checkout must not fail the scenario
            }
        }
    }

    /// <summary>The table as Markdown.</summary>
    public static string Render()
    {
        lock (Rows)
        {
            var text = new StringBuilder();
            text.AppendLine("## GameDay results");
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture,
                $"Run {Started:yyyy-MM-dd HH:mm} UTC, {GameDayScale.Mode}, {Environment.ProcessorCount} cores; every scenario drives the broker as its own OS process on 127.0.0.1.");
            text.AppendLine();
            text.AppendLine("| Scenario | Store | Requests | Faults injected | Invariant violations | 5xx outside injected outages | Duration | Result |");
            text.AppendLine("|---|---|---:|---|---:|---:|---:|---|");
            foreach (var row in Rows)
            {
                var violations = row.InvariantChecks == 0 ? "n/a" : row.InvariantViolations.ToString(CultureInfo.InvariantCulture);
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {Cell(row.Scenario)} | {Cell(row.Store)} | {row.Requests} | {Cell(FaultsOf(row))} | {violations} | {row.ServerErrorsOutsideFaults} | {row.Duration.TotalSeconds:0.0} s | {Cell(row.Result)} |");
            }

            var notes = Rows.Where(r => r.Notes.Count > 0).ToList();
            if (notes.Count > 0)
            {
                text.AppendLine();
                text.AppendLine("What each scenario checked:");
                text.AppendLine();
                foreach (var row in notes)
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"- **{Cell(row.Scenario)} ({Cell(row.Store)})**: {Cell(string.Join("; ", row.Notes))}");
                }
            }

            return text.ToString();
        }
    }

    /// <summary>The faults, each once, with how often it was injected (rounds repeat them).</summary>
    private static string FaultsOf(ScenarioRow row) => row.Faults.Count == 0
        ? "none"
        : string.Join("; ", row.Faults.GroupBy(f => f).Select(g => g.Count() == 1 ? g.Key : $"{g.Key} (×{g.Count()})"));

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");

    private static string FirstLine(string text)
    {
        var line = text.ReplaceLineEndings("\n").Split('\n')[0];
        return line.Length > 200 ? line[..200] + "…" : line;
    }

    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SandboxBroker.sln")))
            {
                return directory.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }
}

namespace SandboxBroker.ConsoleTests;

/// <summary>
/// The console as an operator meets it: a real broker process on SQLite, the page in headless chromium. Every scenario
/// also checks that the browser logged no console error and asked no host but the broker for anything.
/// </summary>
public sealed class ConsoleBrowserTests(ConsoleBroker fixture) : IClassFixture<ConsoleBroker>
{
    [Fact]
    public Task Sign_in_shows_the_overview_with_the_numbers_of_admin_stats() => PassesAsync("overview", screenshots: 2);

    [Fact]
    public Task Filter_by_requester_finds_the_sandbox_and_its_history_shows_allocate_and_mark() => PassesAsync("history", screenshots: 2);

    [Fact]
    public Task Release_asks_for_confirmation_and_then_changes_the_state() => PassesAsync("release", screenshots: 2);

    [Fact]
    public Task A_wrong_token_is_explained_and_the_sign_in_comes_back() => PassesAsync("wrong-token", screenshots: 2);

    [Fact]
    public Task An_unreachable_broker_is_explained_in_the_page() => PassesAsync("unreachable", screenshots: 0);

    [Fact]
    public Task Repairs_preview_with_a_dry_run_and_jobs_list_their_runs() => PassesAsync("repairs-and-jobs", screenshots: 4);

    private async Task PassesAsync(string scenario, int screenshots)
    {
        var report = await ConsoleScenario.RunAsync(scenario, fixture.Broker);

        Assert.True(report.Failures.Count == 0, "failed checks:\n" + string.Join("\n", report.Failures));
        Assert.True(report.ConsoleErrors.Count == 0, "console errors:\n" + string.Join("\n", report.ConsoleErrors));
        Assert.True(report.ForeignRequests.Count == 0, "requests to other hosts:\n" + string.Join("\n", report.ForeignRequests));
        Assert.Equal(screenshots, report.Screenshots.Count);
        Assert.All(report.Screenshots, file => Assert.True(new FileInfo(file).Length > 1000, $"{file} is not a screenshot"));
        Assert.True(report.Ok && report.ExitCode == 0, $"scenario {scenario} exited {report.ExitCode}: {report.Stderr}");
    }
}

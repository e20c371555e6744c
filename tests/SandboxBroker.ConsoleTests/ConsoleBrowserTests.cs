[assembly: CollectionBehavior(DisableTestParallelization = true)] // two brokers and chromiums at once crowd a 2-core box

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

    private Task PassesAsync(string scenario, int screenshots) => ConsoleScenario.PassesAsync(scenario, fixture.Broker, screenshots);
}

/// <summary>
/// A scenario that runs cleanup behind the page's back, on a broker of its own so the other scenarios' sandboxes stay
/// as they were seeded.
/// </summary>
public sealed class ConsoleChangedBehindThePageTests(ConsoleBroker fixture) : IClassFixture<ConsoleBroker>
{
    [Fact]
    public Task A_sandbox_changed_behind_the_page_gets_the_brokers_answer_in_words() =>
        ConsoleScenario.PassesAsync("changed-behind-the-page", fixture.Broker, screenshots: 2);
}


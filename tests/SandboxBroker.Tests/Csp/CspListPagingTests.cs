using SandboxBroker.Api.Csp;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Tests.Workers.Support;

namespace SandboxBroker.Tests.Csp;

/// <summary>
/// SPEC 11.3: decisions are made only on a complete upstream list. The client reads every `_offset`/`_limit` page
/// over real HTTP; a page it cannot read makes the whole list fail, so sync and the stale purge act on nothing.
/// </summary>
public sealed class CspListPagingTests
{
    private static Dictionary<string, string?> PagesOf(int rows) => new() { ["Csp:ListPageSize"] = rows.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    private static int ListRequests(WorkerHarness h) => h.Csp.Requests.Count(r => r is { Method: "GET", Path: "/v2/current_user/accounts" });

    [Fact]
    public async Task Every_page_is_read_and_inactive_accounts_are_known_but_not_pooled()
    {
        // 2,500 sandboxes + a parent account + an inactive (deleted) sandbox account: 2,502 rows, pages of 1,000.
        await using var h = await WorkerHarness.StartAsync(sandboxes: 2500, settings: PagesOf(1000));

        var listing = await h.Get<ICspProvider>().ListSandboxesAsync(CancellationToken.None);

        Assert.Equal(3, ListRequests(h));
        Assert.Equal(2500, listing.Active.Count);
        Assert.Equal(2500, listing.Active.Select(s => s.SandboxId).Distinct().Count());
        Assert.Contains(listing.Active, s => s.Name == "lab-csp-2499"); // from the last page
        Assert.True(listing.Listed.Contains("identity/accounts/eeeeeeee-0000-0000-0000-000000000000")); // the deleted account
    }

    [Fact]
    public async Task A_list_that_ends_on_a_full_page_is_confirmed_by_an_empty_one()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 8, settings: PagesOf(5)); // 10 rows

        var listing = await h.Get<ICspProvider>().ListSandboxesAsync(CancellationToken.None);

        Assert.Equal((3, 8), (ListRequests(h), listing.Active.Count));
    }

    [Fact]
    public async Task A_csp_that_ignores_paging_and_sends_everything_is_read_in_one_request()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 30, settings: PagesOf(10));
        h.Csp.Faults.IgnorePaging = true;

        var listing = await h.Get<ICspProvider>().ListSandboxesAsync(CancellationToken.None);

        Assert.Equal((1, 30), (ListRequests(h), listing.Active.Count));
    }

    [Fact]
    public async Task A_csp_that_repeats_the_first_page_fails_the_list_instead_of_passing_off_part_as_all()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 30, settings: PagesOf(10));
        h.Csp.Faults.IgnoreOffset = true;

        var error = await Assert.ThrowsAsync<CspException>(() => h.Get<ICspProvider>().ListSandboxesAsync(CancellationToken.None));

        Assert.Contains("cannot be read completely", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, ListRequests(h));
    }

    [Fact]
    public async Task A_failed_later_page_fails_the_sync_and_marks_nothing_stale()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 30, settings: PagesOf(10));
        await h.SyncAsync();
        h.Csp.Faults.FailListAtOffset = 20; // the last 12 rows would be missing from a partial list

        await Assert.ThrowsAsync<CspException>(h.SyncAsync);

        var counts = await h.CountsAsync();
        Assert.Equal((30L, 0L), (counts.Available, counts.Stale));
        h.Csp.Faults.FailListAtOffset = null;
        Assert.Equal(0, (await h.SyncAsync()).MarkedStale);
    }

    [Fact]
    public async Task A_sandbox_listed_only_on_a_later_page_stays_available()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 25, settings: PagesOf(10));

        await h.SyncAsync();
        h.Csp.Remove(a => a.Name == "lab-csp-0000");
        var result = await h.SyncAsync();

        Assert.Equal(1, result.MarkedStale);
        Assert.Equal(SandboxStatus.Available, (await h.GetAsync("3000024")).Status); // row 25 of 27, on page 3
    }
}

using SandboxBroker.Api.Csp;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Workers.Cleanup;
using SandboxBroker.Api.Workers.Runner;
using SandboxBroker.Tests.Workers.Support;

namespace SandboxBroker.Tests.Workers;

/// <summary>
/// The NIOSXaaS pre-delete step (SPEC 12) in the cleanup worker, against the fake CSP's NIOSXaaS endpoints over real HTTP.
/// Sandboxes 3000000, 3000002 ... (even csp_id) have an "Instrqt-SaaS" and a "keep-me" service; odd ones have none.
/// </summary>
public sealed class NiosXaasStepTests
{
    private static Dictionary<string, string?> Enabled(bool shadow = false, params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["NiosXaas:Enabled"] = "true",
            ["NiosXaas:Email"] = FakeCspServer.NxEmail,
            ["NiosXaas:Password"] = FakeCspServer.NxPassword,
            ["NiosXaas:ShadowMode"] = shadow ? "true" : "false",
            ["NiosXaas:Timeout"] = "00:00:03",
        };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    private static async Task<WorkerHarness> HarnessAsync(bool shadow = false, params (string Key, string Value)[] more)
    {
        var csp = await FakeCspServer.StartAsync(10);
        var settings = Enabled(shadow, more);
        settings["NiosXaas:BaseUrl"] = csp.RootUrl;
        return await WorkerHarness.StartAsync(settings: settings, csp: csp, ownsCspServer: true);
    }

    [Fact]
    public async Task Matching_services_are_deleted_before_the_account_with_one_sign_in_per_pass_and_the_rest_kept()
    {
        await using var h = await HarnessAsync();
        await h.SyncAsync();
        var pending = await h.PendingDeletionAsync(4); // 3000000..3000003
        var progress = new JobProgress();

        var result = await h.Get<CleanupService>().RunOnceAsync(progress, CancellationToken.None);

        Assert.Equal(4, result.Deleted);
        Assert.Single(h.Csp.NxRequests(FakeCspServer.SignInPath));
        var requests = h.Csp.Requests;
        foreach (var sandbox in pending)
        {
            var uuid = CspAccounts.UuidOf(sandbox.ExternalId);
            var left = h.Csp.ServicesOf(uuid).Select(s => s.Name).ToList();
            var even = long.Parse(sandbox.SandboxId, System.Globalization.CultureInfo.InvariantCulture) % 2 == 0;
            Assert.Equal(even ? ["keep-me"] : [], left);
            var record = await h.GetAsync(sandbox.SandboxId);
            Assert.Equal((SandboxStatus.Deleted, !even, (string?)null), (record.Status, record.NiosxaasCleanupSkipped, record.NiosxaasCleanupFailedReason));
            Assert.NotNull(record.NiosxaasCleanedAt);
            var events = (await h.Store.GetHistoryAsync(sandbox.SandboxId, CancellationToken.None))!.Events;
            var step = Assert.Single(events, e => e.Reason?.StartsWith("niosxaas", StringComparison.Ordinal) == true);
            Assert.True(events.ToList().IndexOf(step) < events.Count - 1 && events[^1].To == "deleted"); // the step, then the tombstone
        }

        var serviceDeletes = requests.Where(r => r.Method == "DELETE" && r.Path.StartsWith(FakeCspServer.ServicesPath, StringComparison.Ordinal)).ToList();
        Assert.Equal(2, serviceDeletes.Count);
        Assert.All(serviceDeletes, d => Assert.EndsWith("a", d.Path, StringComparison.Ordinal)); // the Instrqt-SaaS ones
        var metrics = h.Get<BrokerMetrics>();
        Assert.Equal((2.0, 2.0, 0.0, 2.0, 1.0), (metrics.NiosXaasCleanupTotal.WithLabels("success").Value, metrics.NiosXaasCleanupTotal.WithLabels("skipped").Value,
            metrics.NiosXaasCleanupTotal.WithLabels("failed").Value, metrics.NiosXaasServicesDeleted.Value, metrics.NiosXaasAuthTotal.WithLabels("success").Value));
        Assert.Equal(4, metrics.NiosXaasCleanupDuration.Count);
        Assert.Equal((2L, 2L), (progress.Snapshot()["niosxaas_success"], progress.Snapshot()["niosxaas_skipped"]));
    }

    [Fact]
    public async Task Shadow_mode_lists_and_records_but_deletes_no_service()
    {
        await using var h = await HarnessAsync(shadow: true);
        await h.SyncAsync();
        var pending = await h.PendingDeletionAsync(2);

        var result = await h.Get<CleanupService>().RunOnceAsync(CancellationToken.None);

        Assert.Equal(2, result.Deleted);
        Assert.DoesNotContain(h.Csp.Requests, r => r.Method == "DELETE" && r.Path.StartsWith(FakeCspServer.ServicesPath, StringComparison.Ordinal));
        Assert.Equal(2, h.Csp.ServicesOf(CspAccounts.UuidOf(pending[0].ExternalId)).Count);
        var events = (await h.Store.GetHistoryAsync(pending[0].SandboxId, CancellationToken.None))!.Events;
        Assert.Contains(events, e => e.Reason == "niosxaas shadow mode: would delete 1 universal service(s) (Instrqt-SaaS); deleted none");
        Assert.Null((await h.GetAsync(pending[0].SandboxId)).NiosxaasCleanedAt); // nothing was cleaned
        Assert.Equal(1, h.Get<BrokerMetrics>().NiosXaasCleanupTotal.WithLabels("shadow").Value);
    }

    [Fact]
    public async Task With_niosxaas_down_its_own_circuit_opens_and_every_account_is_deleted_anyway()
    {
        await using var h = await HarnessAsync();
        await h.SyncAsync();
        var pending = await h.PendingDeletionAsync(8);
        h.Csp.Faults.NxDown = true;

        var result = await h.Get<CleanupService>().RunOnceAsync(CancellationToken.None);

        Assert.Equal((8, 0, false), (result.Deleted, result.Failed, result.CircuitOpen));
        Assert.Equal(5, h.Csp.NxRequests().Count); // NIOSXaaS's breaker opened after five failed sign-ins
        Assert.Equal(1, h.Get<BrokerMetrics>().NiosXaasCircuitState.Value);
        Assert.Equal(0, h.Get<BrokerMetrics>().CspCircuitState.Value);
        foreach (var sandbox in pending)
        {
            var record = await h.GetAsync(sandbox.SandboxId);
            Assert.Equal(SandboxStatus.Deleted, record.Status);
            Assert.NotNull(record.NiosxaasCleanupFailedReason);
        }

        Assert.Contains("circuit is open", (await h.GetAsync(pending[^1].SandboxId)).NiosxaasCleanupFailedReason, StringComparison.Ordinal);
        Assert.Equal(8, h.Get<BrokerMetrics>().NiosXaasCleanupTotal.WithLabels("failed").Value);
        Assert.Equal(5, h.Get<BrokerMetrics>().NiosXaasAuthTotal.WithLabels("failed").Value);
    }

    [Fact]
    public async Task An_expired_sign_in_jwt_is_renewed_once_when_refused()
    {
        await using var h = await HarnessAsync();
        await h.SyncAsync();
        await h.PendingDeletionAsync(5);
        h.Csp.Faults.NxJwtUses = 2; // the sign-in JWT is refused from its third use on

        var result = await h.Get<CleanupService>().RunOnceAsync(CancellationToken.None);

        Assert.Equal(5, result.Deleted);
        Assert.Equal(3, h.Csp.NxRequests(FakeCspServer.SignInPath).Count); // 2 switches per JWT, a renewal when refused
        Assert.Equal(2, h.Csp.NxRequests(FakeCspServer.SwitchPath).Count(r => r.Status == 401));
        Assert.Equal(0, h.Get<BrokerMetrics>().NiosXaasCleanupTotal.WithLabels("failed").Value);
    }

    [Theory]
    [InlineData("html")]
    [InlineData("truncated")]
    [InlineData("no-id")]
    public async Task Bad_input_from_niosxaas_fails_the_step_on_the_breaker_and_never_the_pass(string fault)
    {
        await using var h = await HarnessAsync();
        await h.SyncAsync();
        var sandbox = (await h.PendingDeletionAsync(1))[0]; // 3000000 has services
        switch (fault)
        {
            case "html": h.Csp.Faults.NxHtml = true; break;
            case "truncated": h.Csp.Faults.NxTruncatedJson = true; break;
            default: h.Csp.Faults.NxServiceWithoutId = true; break;
        }

        var result = await h.Get<CleanupService>().RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, result.Deleted);
        var record = await h.GetAsync(sandbox.SandboxId);
        Assert.Null(record.NiosxaasCleanedAt);
        Assert.StartsWith("NIOSXaaS ", record.NiosxaasCleanupFailedReason, StringComparison.Ordinal);
        Assert.Equal(1, h.Get<BrokerMetrics>().NiosXaasCleanupTotal.WithLabels("failed").Value);
        Assert.DoesNotContain(h.Csp.Requests, r => r.Method == "DELETE" && r.Path.StartsWith(FakeCspServer.ServicesPath, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Blocking_on_failure_counts_the_attempt_backs_off_and_cleans_once_niosxaas_answers()
    {
        await using var h = await HarnessAsync(false, ("NiosXaas:BlockDeletionOnFailure", "true"));
        await h.SyncAsync();
        var sandbox = (await h.PendingDeletionAsync(1))[0];
        h.Csp.Faults.NxFailDeletes = true;
        var cleanup = h.Get<CleanupService>();

        var first = await cleanup.RunOnceAsync(CancellationToken.None);

        Assert.Equal((0, 1), (first.Deleted, first.Failed));
        Assert.Empty(h.Csp.Deletes()); // the account was not deleted
        var record = await h.GetAsync(sandbox.SandboxId);
        Assert.Equal((SandboxStatus.PendingDeletion, 1), (record.Status, record.DeletionRetryCount));
        Assert.Contains("NIOSXaaS", record.LastError, StringComparison.Ordinal);

        h.Csp.Faults.NxFailDeletes = false;
        h.Time.Advance(TimeSpan.FromMinutes(2));
        var second = await cleanup.RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, second.Deleted);
        Assert.Equal(["keep-me"], h.Csp.ServicesOf(CspAccounts.UuidOf(sandbox.ExternalId)).Select(s => s.Name));
    }

    [Fact]
    public async Task A_sandbox_already_cleaned_is_not_cleaned_again_when_its_account_delete_is_retried()
    {
        await using var h = await HarnessAsync();
        await h.SyncAsync();
        var sandbox = (await h.PendingDeletionAsync(1))[0];
        h.Csp.Faults.FailFirst = 1;
        var cleanup = h.Get<CleanupService>();

        await cleanup.RunOnceAsync(CancellationToken.None);
        Assert.Equal(SandboxStatus.PendingDeletion, (await h.GetAsync(sandbox.SandboxId)).Status);
        h.Time.Advance(TimeSpan.FromMinutes(2));
        await cleanup.RunOnceAsync(CancellationToken.None);

        Assert.Equal(SandboxStatus.Deleted, (await h.GetAsync(sandbox.SandboxId)).Status);
        Assert.Single(h.Csp.NxRequests(FakeCspServer.SwitchPath));
        Assert.Equal(1, h.Get<BrokerMetrics>().NiosXaasCleanupTotal.WithLabels("success").Value);
    }

    [Fact]
    public async Task Refused_credentials_count_a_failed_sign_in_and_never_reach_the_log()
    {
        var csp = await FakeCspServer.StartAsync(10);
        var settings = Enabled();
        settings["NiosXaas:BaseUrl"] = csp.RootUrl;
        settings["NiosXaas:Password"] = "wrong-password-4711";
        await using var h = await WorkerHarness.StartAsync(settings: settings, csp: csp, ownsCspServer: true);
        await h.SyncAsync();
        await h.PendingDeletionAsync(1);

        var result = await h.Get<CleanupService>().RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, result.Deleted);
        Assert.Equal(1, h.Get<BrokerMetrics>().NiosXaasAuthTotal.WithLabels("failed").Value);
        Assert.DoesNotContain(h.Logs.GetSnapshot(), r => r.Message.Contains("wrong-password-4711", StringComparison.Ordinal)
            || (r.Exception?.ToString().Contains("wrong-password-4711", StringComparison.Ordinal) ?? false));
    }
}

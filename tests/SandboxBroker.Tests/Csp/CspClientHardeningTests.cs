using SandboxBroker.Api.Csp;
using SandboxBroker.Tests.Infrastructure;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Tests.Workers.Support;

namespace SandboxBroker.Tests.Csp;

/// <summary>
/// The live CSP client against hostile or broken upstream answers and inputs (issue 14, item 10): a size cap on what
/// it reads, only real account uuids in DELETE paths, https in Production.
/// </summary>
public sealed class CspClientHardeningTests
{
    private static Sandbox SandboxWith(string externalId) => new()
    {
        SandboxId = "s-1", Name = "s-1", ExternalId = externalId, Status = SandboxStatus.PendingDeletion,
    };

    [Fact]
    public async Task A_list_larger_than_the_cap_is_a_counted_failure_not_an_unbounded_read()
    {
        // 6,000 accounts on one page are about 1.5 MB of JSON, over the smallest cap of 1 MiB (the cap is per page).
        await using var h = await WorkerHarness.StartAsync(sandboxes: 6000,
            settings: new Dictionary<string, string?> { ["Csp:MaxResponseBytes"] = "1048576", ["Csp:ListPageSize"] = "10000" });

        var error = await Assert.ThrowsAsync<CspException>(() => h.Get<ICspProvider>().ListSandboxesAsync(CancellationToken.None));

        Assert.True(error.CountsAsFailure);
        Assert.Contains("Csp:MaxResponseBytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_list_under_the_cap_is_read_whole()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 6000,
            settings: new Dictionary<string, string?> { ["Csp:MaxResponseBytes"] = "4194304" });

        Assert.Equal(6000, (await h.Get<ICspProvider>().ListSandboxesAsync(CancellationToken.None)).Active.Count);
    }

    [Theory]
    [InlineData("identity/accounts/..")]
    [InlineData("identity/accounts/current_user%2Faccounts")]
    [InlineData("identity/accounts/00000000-0000-0000-0000-00000000000g")]
    [InlineData("")]
    public async Task An_external_id_without_an_account_uuid_never_reaches_the_csp(string externalId)
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1);

        var error = await Assert.ThrowsAsync<CspException>(() => h.Get<ICspProvider>().DeleteSandboxAsync(SandboxWith(externalId), CancellationToken.None));

        Assert.False(error.CountsAsFailure); // our data, not CSP's health
        Assert.Empty(h.Csp.Requests);
    }

    [Theory]
    [InlineData("Production", "http://csp.example.com/v2", false, false)]
    [InlineData("Production", "http://csp.example.com/v2", true, true)]
    [InlineData("Production", "http://127.0.0.1:9000/v2", false, true)]
    [InlineData("Production", "http://localhost:9000/v2", false, true)]
    [InlineData("Production", "https://csp.infoblox.com/v2", false, true)]
    [InlineData("Development", "http://csp.example.com/v2", false, true)]
    public void Production_talks_to_csp_over_https_unless_the_stand_in_is_local_or_allowed(string environment, string baseUrl, bool allowHttp, bool valid)
    {
        var result = new CspOptionsValidator(new TestHostEnvironment(environment)).Validate(null, new CspOptions { BaseUrl = baseUrl, AllowHttp = allowHttp });
        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains("Csp:BaseUrl must be https in Production", result.FailureMessage, StringComparison.Ordinal);
        }
    }
}

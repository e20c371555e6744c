using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Tests.Storage;

/// <summary>
/// The store contract, run unchanged against every implementation: a store adds one subclass that returns a
/// fresh, initialised, empty store from <see cref="CreateStoreAsync"/>.
/// </summary>
public abstract partial class StoreContractTests
{
    protected const long Now = 1_800_000_000;

    protected abstract Task<ISandboxStore> CreateStoreAsync();

    /// <summary>Whether counts include tombstones (deleted); DynamoDB leaves them uncounted (null), as reading them costs per tombstone.</summary>
    protected virtual bool CountsTombstones => true;

    protected static UpstreamSandbox Upstream(string id, string? name = null) =>
        new(id, name ?? $"sbx-{id}", $"identity/accounts/00000000-0000-4000-8000-{id.PadLeft(12, '0')[^12..]}", Now - 100, $"SFDC-{id}");

    protected static async Task<ISandboxStore> WithSandboxesAsync(ISandboxStore store, int count, string namePrefix = "sbx")
    {
        await Task.WhenAll(Enumerable.Range(1, count).Select(i =>
            store.RegisterAsync(Upstream(i.ToString("D4"), $"{namePrefix}-{i:D4}"), Now, TestCause.Setup, CancellationToken.None)));
        return store;
    }

    protected static ClaimRequest Claim(string sandboxId, string requester, string? key = null, string? replaces = null) => new()
    {
        SandboxId = sandboxId,
        Requester = requester,
        IdempotencyKey = key ?? requester,
        TrackName = "lab-a",
        Now = Now,
        ExpiresAt = Now + 4 * 3600,
        LabDurationHours = 4,
        ReplacesSandboxId = replaces,
        Cause = new ChangeCause("track:test", "req-" + requester) { Requester = requester, TrackName = "lab-a" },
    };

    protected static StateChange Change(string id, SandboxStatus from, SandboxStatus to) =>
        new() { SandboxId = id, From = from, To = to, Now = Now + 10, Cause = TestCause.Setup };

    [Fact]
    public async Task Register_creates_an_available_sandbox_with_every_field()
    {
        var store = await CreateStoreAsync();
        Assert.True(await store.RegisterAsync(Upstream("0001", "lab-one"), Now, TestCause.Setup, default));
        var sandbox = await store.GetAsync("0001", default);
        Assert.NotNull(sandbox);
        Assert.Equal(SandboxStatus.Available, sandbox.Status);
        Assert.Equal("lab-one", sandbox.Name);
        Assert.Equal(Upstream("0001").ExternalId, sandbox.ExternalId);
        Assert.Equal("SFDC-0001", sandbox.SfdcAccountId);
        Assert.Equal(0, sandbox.AllocatedAt);
        Assert.Null(sandbox.AllocatedTo);
        Assert.Equal(Now, sandbox.UpdatedAt);
    }

    [Fact]
    public async Task Register_never_touches_an_existing_record()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 1);
        await store.TryClaimAsync(Claim("0001", "alice"), default);
        Assert.False(await store.RegisterAsync(Upstream("0001", "renamed"), Now, TestCause.Setup, default));
        var sandbox = await store.GetAsync("0001", default);
        Assert.Equal(SandboxStatus.Allocated, sandbox!.Status);
        Assert.Equal("sbx-0001", sandbox.Name);
    }

    [Fact]
    public async Task Get_of_an_unknown_id_is_null()
    {
        var store = await CreateStoreAsync();
        Assert.Null(await store.GetAsync("nope", default));
    }

    [Fact]
    public async Task Claim_allocates_an_available_sandbox_and_records_the_idempotency_key()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 2);
        var result = Assert.IsType<ClaimResult.Claimed>(await store.TryClaimAsync(Claim("0001", "alice", "k1"), default));
        Assert.Equal(SandboxStatus.Allocated, result.Sandbox.Status);
        Assert.Equal("alice", result.Sandbox.AllocatedTo);
        Assert.Equal("k1", result.Sandbox.IdempotencyKey);
        Assert.Equal("lab-a", result.Sandbox.TrackName);
        Assert.Equal(Now, result.Sandbox.AllocatedAt);
        Assert.Equal(Now + 4 * 3600, result.Sandbox.ExpiresAt);
        Assert.Equal("0001", await store.GetIdempotentSandboxIdAsync("alice", "k1", default));
        var stored = await store.GetAsync("0001", default);
        Assert.Equal(result.Sandbox, stored);
    }

    [Fact]
    public async Task Claim_of_a_taken_sandbox_is_refused()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 1);
        Assert.IsType<ClaimResult.Claimed>(await store.TryClaimAsync(Claim("0001", "alice"), default));
        Assert.IsType<ClaimResult.SandboxTaken>(await store.TryClaimAsync(Claim("0001", "bob"), default));
        Assert.Equal("alice", (await store.GetAsync("0001", default))!.AllocatedTo);
        Assert.Null(await store.GetIdempotentSandboxIdAsync("bob", "bob", default));
    }

    [Fact]
    public async Task Claim_with_a_key_that_is_already_recorded_is_refused_and_changes_nothing()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 2);
        await store.TryClaimAsync(Claim("0001", "alice"), default);
        var second = Assert.IsType<ClaimResult.KeyTaken>(await store.TryClaimAsync(Claim("0002", "alice"), default));
        Assert.Equal("0001", second.CurrentSandboxId);
        Assert.Equal(SandboxStatus.Available, (await store.GetAsync("0002", default))!.Status);
    }

    [Fact]
    public async Task Idempotency_keys_are_scoped_per_requester()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 2);
        Assert.IsType<ClaimResult.Claimed>(await store.TryClaimAsync(Claim("0001", "alice", "same-key"), default));
        Assert.IsType<ClaimResult.Claimed>(await store.TryClaimAsync(Claim("0002", "bob", "same-key"), default));
    }

    [Fact]
    public async Task Claim_replacing_a_released_sandbox_moves_the_key_only_from_that_sandbox()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 3);
        await store.TryClaimAsync(Claim("0001", "alice"), default);
        Assert.IsType<ClaimResult.KeyTaken>(await store.TryClaimAsync(Claim("0002", "alice", replaces: "0003"), default));
        Assert.IsType<ClaimResult.Claimed>(await store.TryClaimAsync(Claim("0002", "alice", replaces: "0001"), default));
        Assert.Equal("0002", await store.GetIdempotentSandboxIdAsync("alice", "alice", default));
    }
}

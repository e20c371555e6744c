using SandboxBroker.Api.Reservations;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Tests.Storage;

/// <summary>Lab lifecycle on every store (SPEC 13, 14): lease extension, the reserved state, reservations, counts.</summary>
public abstract partial class StoreContractTests
{
    private static readonly ChangeCause LabOperator = new("admin:test", "req-op");

    [Fact]
    public async Task Extension_is_conditional_on_the_expires_at_it_read_and_records_an_event()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 1);
        var claimed = Assert.IsType<ClaimResult.Claimed>(await store.TryClaimAsync(Claim("0001", "alice"), default)).Sandbox;
        var extended = await store.TransitionAsync(Transitions.Extend(claimed, claimed.LeaseExpiresAt + 3600, "alice", Now + 5, LabOperator), default);
        Assert.Equal(Now + 5 * 3600, Assert.IsType<TransitionResult.Applied>(extended).Sandbox.ExpiresAt);

        // A second extension computed from the same (now outdated) read loses: never two extensions added to one value.
        var stale = await store.TransitionAsync(Transitions.Extend(claimed, claimed.LeaseExpiresAt + 7200, "alice", Now + 6, LabOperator), default);
        Assert.IsType<TransitionResult.Conflict>(stale);
        var byOther = await store.TransitionAsync(Transitions.Extend(claimed with { ExpiresAt = Now + 5 * 3600 }, Now + 6 * 3600, "bob", Now + 6, LabOperator), default);
        Assert.IsType<TransitionResult.Conflict>(byOther);
        Assert.Equal(Now + 5 * 3600, (await store.GetAsync("0001", default))!.ExpiresAt);

        var history = (await store.GetHistoryAsync("0001", default))!.Events;
        var last = history[^1];
        Assert.Equal(("allocated", "allocated"), (last.From, last.To));
        Assert.Contains("extended", last.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reserved_sandbox_goes_only_to_its_lab_and_is_counted_as_reserved()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 3);
        var held = await store.TransitionAsync(Transitions.Hold("0001", "rsv-1", "workshop", Now, LabOperator), default);
        var reserved = Assert.IsType<TransitionResult.Applied>(held).Sandbox;
        Assert.Equal((SandboxStatus.Reserved, "rsv-1", "workshop"), (reserved.Status, reserved.ReservationId, reserved.ReservedFor));

        var counts = await store.CountAsync(null, default);
        Assert.Equal((2L, 1L, 3L), (counts.Available, counts.Reserved, counts.Total));

        // The general pool never lists it; the lab's reserved window does, and only for that lab.
        var general = await store.FindAvailableAsync(null, 10, default);
        Assert.DoesNotContain(general, s => s.SandboxId == "0001");
        Assert.Equal(["0001"], await store.FindReservedAsync("workshop", null, 10, default));
        Assert.Empty(await store.FindReservedAsync("other-lab", null, 10, default));

        // A plain claim (available) of it fails; a claim for another lab fails; the lab's claim succeeds.
        Assert.IsType<ClaimResult.SandboxTaken>(await store.TryClaimAsync(Claim("0001", "alice"), default));
        Assert.IsType<ClaimResult.SandboxTaken>(await store.TryClaimAsync(Claim("0001", "bob") with { ReservedFor = "other-lab" }, default));
        var mine = Assert.IsType<ClaimResult.Claimed>(await store.TryClaimAsync(Claim("0001", "carol") with { ReservedFor = "workshop" }, default)).Sandbox;
        Assert.Equal((SandboxStatus.Allocated, "carol", "workshop"), (mine.Status, mine.AllocatedTo, mine.TrackName));
        var stored = (await store.GetAsync("0001", default))!;
        Assert.Equal(("rsv-1", (string?)null), (stored.ReservationId, stored.ReservedFor));
        Assert.Equal(("reserved", "allocated"), ((await store.GetHistoryAsync("0001", default))!.Events[^1].From, "allocated"));
    }

    [Fact]
    public async Task A_hold_given_back_is_available_again_and_only_by_its_own_reservation()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 1);
        await store.TransitionAsync(Transitions.Hold("0001", "rsv-1", "workshop", Now, LabOperator), default);
        Assert.IsType<TransitionResult.Conflict>(await store.TransitionAsync(Transitions.Unhold("0001", "rsv-2", Now + 1, LabOperator), default));
        var back = Assert.IsType<TransitionResult.Applied>(await store.TransitionAsync(Transitions.Unhold("0001", "rsv-1", Now + 1, LabOperator), default)).Sandbox;
        Assert.Equal((SandboxStatus.Available, (string?)null, (string?)null), (back.Status, back.ReservationId, back.ReservedFor));
        Assert.Single(await store.FindAvailableAsync(null, 10, default));
        Assert.Empty(await store.FindReservedAsync("workshop", null, 10, default));
        var events = (await store.GetHistoryAsync("0001", default))!.Events;
        Assert.Equal([("available", "reserved"), ("reserved", "available")], events.Skip(1).Select(e => (e.From!, e.To)));
    }

    [Fact]
    public async Task A_reserved_sandbox_missing_upstream_goes_stale_and_leaves_its_reservation()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 1);
        await store.TransitionAsync(Transitions.Hold("0001", "rsv-1", "workshop", Now, LabOperator), default);
        var stale = await store.TransitionAsync(Transitions.MarkStale("0001", Now + 1, LabOperator, SandboxStatus.Reserved), default);
        var sandbox = Assert.IsType<TransitionResult.Applied>(stale).Sandbox;
        Assert.Equal((SandboxStatus.Stale, (string?)null), (sandbox.Status, sandbox.ReservationId));
    }

    [Fact]
    public async Task Reservation_records_are_kept_listed_and_ended_once()
    {
        var store = await CreateStoreAsync();
        var first = new Reservation { ReservationId = "rsv-0000000001-a", TrackName = "ws", Count = 2, EndsAt = Now + 3600, CreatedAt = Now, NamePrefix = "sbx" };
        var second = first with { ReservationId = "rsv-0000000002-b", CreatedAt = Now + 1, NamePrefix = null };
        Assert.True(await store.CreateReservationAsync(first, default));
        Assert.False(await store.CreateReservationAsync(first, default));
        Assert.True(await store.CreateReservationAsync(second, default));
        Assert.Equal(first, await store.GetReservationAsync(first.ReservationId, default));
        Assert.Null(await store.GetReservationAsync("rsv-none", default));
        Assert.Equal([second.ReservationId, first.ReservationId], (await store.ListReservationsAsync(default)).Select(r => r.ReservationId));

        Assert.True(await store.EndReservationAsync(first.ReservationId, Now + 50, default));
        Assert.False(await store.EndReservationAsync(first.ReservationId, Now + 60, default));
        var ended = await store.GetReservationAsync(first.ReservationId, default);
        Assert.Equal((Reservation.Ended, (long?)(Now + 50)), (ended!.Status, ended.EndedAt));
    }

    [Fact]
    public async Task Reservation_counts_and_allocations_since_come_from_the_sandboxes()
    {
        var store = await WithSandboxesAsync(await CreateStoreAsync(), 5);
        var reservation = new Reservation { ReservationId = "rsv-1", TrackName = "workshop", Count = 3, EndsAt = Now + 3600, CreatedAt = Now - 10 };
        foreach (var id in (string[])["0001", "0002", "0003"])
        {
            await store.TransitionAsync(Transitions.Hold(id, "rsv-1", "workshop", Now, LabOperator), default);
        }

        await store.TryClaimAsync(Claim("0001", "alice") with { ReservedFor = "workshop" }, default);
        await store.TryClaimAsync(Claim("0004", "bob") with { Now = Now - 1000 }, default);
        Assert.Equal(new ReservationCounts(2, 1), await store.CountReservationAsync(reservation, default));
        Assert.Equal(1, await store.CountAllocatedSinceAsync(null, Now - 600, default));
        Assert.Equal(2, await store.CountAllocatedSinceAsync(null, Now - 2000, default));
        Assert.Equal(0, await store.CountAllocatedSinceAsync("other", Now - 2000, default));
    }
}

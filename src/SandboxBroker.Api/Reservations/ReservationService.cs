using System.Globalization;
using SandboxBroker.Api.Allocation;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Workers.Runner;

namespace SandboxBroker.Api.Reservations;

/// <summary>What POST /admin/reservations asks for (validated by <see cref="ReservationBody"/>).</summary>
public sealed record ReservationRequest(string TrackName, int Count, string? NamePrefix, long EndsAt, bool Partial);

/// <summary>Outcomes of the reservation actions, mapped to HTTP in <see cref="ReservationResults"/>.</summary>
public abstract record ReservationOutcome
{
    private ReservationOutcome() { }

    public sealed record Ok(Reservation Reservation, ReservationCounts Counts) : ReservationOutcome;

    /// <summary>Fewer available than asked for, without partial: nothing held (409 INSUFFICIENT_CAPACITY).</summary>
    public sealed record Insufficient(long Available) : ReservationOutcome;

    public sealed record NotFound : ReservationOutcome;
}

/// <summary>
/// Reservations (SPEC 14). Holding is one conditional write per sandbox (available → reserved, carrying the
/// reservation id); a refused reservation gives back what it held by the reverse conditional write, so each sandbox is
/// either held or available at every moment, never lost. Ending one (DELETE, or the job at ends_at) marks the record
/// ended first and then gives back every sandbox still reserved by it; the job also gives back any reserved sandbox
/// whose reservation is no longer active, so an end interrupted half-way is finished by the next pass.
/// </summary>
internal sealed class ReservationService(ISandboxStore store, TimeProvider time, LabsWithoutReservations labsWithout)
{
    private const int Parallelism = 8;

    public async Task<ReservationOutcome> CreateAsync(ReservationRequest request, ChangeCause cause, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var counts = await store.CountAsync(request.NamePrefix, ct);
        if (counts.Available < request.Count && !request.Partial)
        {
            return new ReservationOutcome.Insufficient(counts.Available); // nothing written
        }

        var now = time.NowEpochSeconds();
        var reservation = new Reservation
        {
            ReservationId = NewId(now),
            TrackName = request.TrackName,
            NamePrefix = request.NamePrefix,
            Count = request.Count,
            EndsAt = request.EndsAt,
            CreatedAt = now,
            CreatedBy = cause.Actor,
        };
        await store.CreateReservationAsync(reservation, ct);
        var held = await HoldAsync(reservation, cause, ct);
        if (held.Count < request.Count && !request.Partial)
        {
            // Allocations took some between the count and the holds: give back what was held, end the record.
            await GiveBackAsync(held, reservation.ReservationId, cause with { Reason = "reservation refused: not enough available" }, ct);
            await store.EndReservationAsync(reservation.ReservationId, time.NowEpochSeconds(), ct);
            return new ReservationOutcome.Insufficient((await store.CountAsync(request.NamePrefix, ct)).Available);
        }

        labsWithout.Forget(request.TrackName);
        return new ReservationOutcome.Ok(reservation, new ReservationCounts(held.Count, 0));
    }

    public async Task<IReadOnlyList<(Reservation Reservation, ReservationCounts Counts)>> ListAsync(CancellationToken ct)
    {
        var reservations = await store.ListReservationsAsync(ct);
        var counts = await Task.WhenAll(reservations.Select(r => store.CountReservationAsync(r, ct)));
        return [.. reservations.Zip(counts)];
    }

    public async Task<ReservationOutcome> GetAsync(string reservationId, CancellationToken ct) =>
        await store.GetReservationAsync(reservationId, ct) is { } reservation
            ? new ReservationOutcome.Ok(reservation, await store.CountReservationAsync(reservation, ct))
            : new ReservationOutcome.NotFound();

    /// <summary>Ends a reservation now (again: gives back whatever it still holds).</summary>
    public async Task<ReservationOutcome> EndAsync(string reservationId, ChangeCause cause, CancellationToken ct)
    {
        if (await store.GetReservationAsync(reservationId, ct) is null)
        {
            return new ReservationOutcome.NotFound();
        }

        await store.EndReservationAsync(reservationId, time.NowEpochSeconds(), ct);
        await GiveBackAsync(await HeldByAsync(r => r == reservationId, ct), reservationId, cause with { Reason = "reservation ended" }, ct);
        return await GetAsync(reservationId, ct);
    }

    /// <summary>The job's pass: ends reservations past ends_at, then gives back sandboxes of every reservation not active.</summary>
    public async Task<(int Ended, int Released)> EndDueAsync(JobProgress? progress, CancellationToken ct)
    {
        var now = time.NowEpochSeconds();
        var reservations = await store.ListReservationsAsync(ct);
        var ended = 0;
        foreach (var due in reservations.Where(r => r.Status == Reservation.Active && r.EndsAt <= now))
        {
            ended += await store.EndReservationAsync(due.ReservationId, now, ct) ? 1 : 0;
        }

        var active = (await store.ListReservationsAsync(ct)).Where(r => r.Status == Reservation.Active)
            .Select(r => r.ReservationId).ToHashSet(StringComparer.Ordinal);
        var released = 0;
        var cause = ChangeCause.Job(JobNames.Reservations, "reservation ended");
        foreach (var group in (await HeldByAsync(r => r is null || !active.Contains(r), ct)).GroupBy(s => s.ReservationId ?? ""))
        {
            released += await GiveBackAsync([.. group], group.Key, cause, ct);
        }

        progress?.Add(JobProgress.Examined, reservations.Count);
        progress?.Add(JobProgress.Changed, ended + released);
        progress?.Add("ended", ended);
        progress?.Add("released", released);
        return (ended, released);
    }

    /// <summary>Holds up to Count available sandboxes (of the prefix), a batch of conditional writes at a time.</summary>
    private async Task<List<Sandbox>> HoldAsync(Reservation reservation, ChangeCause cause, CancellationToken ct)
    {
        var held = new List<Sandbox>(reservation.Count);
        string? after = null;
        do
        {
            var page = await store.ListAsync(
                new SandboxQuery { Status = SandboxStatus.Available, NamePrefix = reservation.NamePrefix, Limit = 100, After = after }, ct);
            after = page.Next;
            var queue = new Queue<Sandbox>(page.Items);
            while (queue.Count > 0 && held.Count < reservation.Count)
            {
                var batch = Enumerable.Range(0, Math.Min(Math.Min(queue.Count, reservation.Count - held.Count), Parallelism))
                    .Select(_ => queue.Dequeue()).ToList();
                var results = await Task.WhenAll(batch.Select(s => store.TransitionAsync(
                    Transitions.Hold(s.SandboxId, reservation.ReservationId, reservation.TrackName, time.NowEpochSeconds(), cause), ct)));
                held.AddRange(results.OfType<TransitionResult.Applied>().Select(a => a.Sandbox));
            }
        }
        while (after is not null && held.Count < reservation.Count);

        return held;
    }

    private async Task<int> GiveBackAsync(IReadOnlyList<Sandbox> sandboxes, string reservationId, ChangeCause cause, CancellationToken ct)
    {
        var released = 0;
        foreach (var batch in sandboxes.Chunk(Parallelism))
        {
            var results = await Task.WhenAll(batch.Select(s => store.TransitionAsync(
                Transitions.Unhold(s.SandboxId, s.ReservationId ?? reservationId, time.NowEpochSeconds(), cause), ct)));
            released += results.Count(r => r is TransitionResult.Applied);
        }

        return released;
    }

    /// <summary>Reserved sandboxes whose reservation id matches (StatusIndex on DynamoDB; reserved ones are few).</summary>
    private async Task<List<Sandbox>> HeldByAsync(Func<string?, bool> matches, CancellationToken ct)
    {
        var found = new List<Sandbox>();
        await foreach (var sandbox in store.ScanByStatusAsync(SandboxStatus.Reserved, ct))
        {
            if (matches(sandbox.ReservationId))
            {
                found.Add(sandbox);
            }
        }

        return found;
    }

    /// <summary>Ids sort by creation time (DynamoDB lists them newest first by key order).</summary>
    private static string NewId(long now) =>
        "rsv-" + now.ToString("D10", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..8];
}

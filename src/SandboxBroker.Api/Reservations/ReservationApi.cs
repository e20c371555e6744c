using Microsoft.Extensions.Options;
using SandboxBroker.Api.Admin;
using SandboxBroker.Api.Http;
using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Reservations;

/// <summary>The wire shape of a reservation: the record and its counts read from the sandboxes.</summary>
public sealed record ReservationResponse(
    string ReservationId, string TrackName, string? NamePrefix, int Count, long Held, long Allocated, long EndsAt, string Status,
    long CreatedAt, long? EndedAt)
{
    public static ReservationResponse From(Reservation r, ReservationCounts c) =>
        new(r.ReservationId, r.TrackName, r.NamePrefix, r.Count, c.Held, c.Allocated, r.EndsAt, r.Status, r.CreatedAt, r.EndedAt);
}

public sealed record ReservationListResponse(IReadOnlyList<ReservationResponse> Reservations, int Count);

/// <summary>The problem body of 409 INSUFFICIENT_CAPACITY carries how many are available.</summary>
internal static class ReservationResults
{
    /// <param name="createdUnder">Set for a creation: 201 with Location {createdUnder}/{id}; otherwise 200.</param>
    public static IResult For(ReservationOutcome outcome, string? createdUnder = null) => outcome switch
    {
        ReservationOutcome.Ok ok when createdUnder is not null =>
            TypedResults.Created($"{createdUnder}/{Uri.EscapeDataString(ok.Reservation.ReservationId)}", ReservationResponse.From(ok.Reservation, ok.Counts)),
        ReservationOutcome.Ok ok => TypedResults.Ok(ReservationResponse.From(ok.Reservation, ok.Counts)),
        ReservationOutcome.Insufficient i => new InsufficientResult(i.Available),
        _ => Problems.Result(StatusCodes.Status404NotFound, ErrorCodes.ReservationNotFound, "No such reservation."),
    };

    private sealed class InsufficientResult(long available) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => StatusCodes.Status409Conflict;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status409Conflict;
            var problem = Problems.Create(httpContext, StatusCodes.Status409Conflict, ErrorCodes.InsufficientCapacity,
                $"Only {available} sandboxes are available; nothing was held (send partial=true to hold what there is).");
            problem.Extensions["available"] = available;
            return httpContext.Response.WriteAsJsonAsync(problem, ProblemJson.Options, "application/problem+json", httpContext.RequestAborted);
        }
    }
}

/// <summary>POST/GET/DELETE {base}/admin/reservations (admin token).</summary>
internal static class ReservationApi
{
    public static IServiceCollection AddReservations(this IServiceCollection services) => services.AddSingleton<ReservationService>();

    public static RouteGroupBuilder MapAdminReservations(this RouteGroupBuilder admin)
    {
        admin.MapPost("/reservations", CreateAsync)
            .WithName("CreateReservation")
            .WithSummary("Hold sandboxes for a lab until ends_at: {track_name, count, name_prefix?, ends_at, partial?}")
            .WithDescription("201 with the reservation; 409 INSUFFICIENT_CAPACITY with available (nothing held) when fewer are available and partial is not true; 400 for a bad body (count < 1, ends_at past or more than 30 days ahead).")
            .Accepts<ReservationRequestDoc>("application/json")
            .Produces<ReservationResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapGet("/reservations", ListAsync)
            .WithName("ListReservations")
            .WithSummary("Active and recent reservations with held and allocated counts")
            .Produces<ReservationListResponse>();
        admin.MapGet("/reservations/{reservationId}", GetAsync)
            .WithName("GetReservation")
            .WithSummary("One reservation with its held and allocated counts")
            .Produces<ReservationResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapDelete("/reservations/{reservationId}", EndAsync)
            .WithName("EndReservation")
            .WithSummary("End a reservation now: its unused sandboxes go back to available")
            .Produces<ReservationResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        return admin;
    }

    private static async Task<IResult> CreateAsync(
        HttpContext context, ReservationService reservations, TimeProvider time, IOptions<Configuration.BrokerOptions> options)
    {
        var (request, error) = await ReservationBody.ReadAsync(context.Request, time.NowEpochSeconds(), context.RequestAborted);
        if (request is null)
        {
            return Problems.BadRequest(error!);
        }

        return ReservationResults.For(await reservations.CreateAsync(request, AdminCause.Of(context), context.RequestAborted),
            createdUnder: options.Value.BasePath + "/admin/reservations");
    }

    private static async Task<IResult> ListAsync(ReservationService reservations, CancellationToken ct)
    {
        var list = await reservations.ListAsync(ct);
        return TypedResults.Ok(new ReservationListResponse([.. list.Select(x => ReservationResponse.From(x.Reservation, x.Counts))], list.Count));
    }

    private static async Task<IResult> GetAsync(string reservationId, ReservationService reservations, CancellationToken ct) =>
        InputRules.IsValidId(reservationId)
            ? ReservationResults.For(await reservations.GetAsync(reservationId, ct))
            : Problems.BadRequest(InputRules.Describe("The reservation id", InputRules.MaxIdLength));

    private static async Task<IResult> EndAsync(string reservationId, HttpContext context, ReservationService reservations) =>
        InputRules.IsValidId(reservationId)
            ? ReservationResults.For(await reservations.EndAsync(reservationId, AdminCause.Of(context), context.RequestAborted))
            : Problems.BadRequest(InputRules.Describe("The reservation id", InputRules.MaxIdLength));
}

/// <summary>The body of POST /admin/reservations (documented for OpenAPI; the handler reads and validates it itself).</summary>
public sealed record ReservationRequestDoc(string TrackName, int Count, string? NamePrefix, long EndsAt, bool? Partial);

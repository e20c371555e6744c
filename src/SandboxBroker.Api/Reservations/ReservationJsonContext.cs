using System.Text.Json.Serialization;

namespace SandboxBroker.Api.Reservations;

/// <summary>The stored shape of a reservation record: the wire names, nulls left out.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Reservation))]
internal sealed partial class ReservationJsonContext : JsonSerializerContext;

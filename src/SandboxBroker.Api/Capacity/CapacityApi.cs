using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using SandboxBroker.Api.Http;

namespace SandboxBroker.Api.Capacity;

/// <summary>GET {base}/capacity: track and admin tokens; lab scripts and operators check it before an event.</summary>
public sealed record CapacityResponse(
    string? NamePrefix, long Available, long Reserved, long? Requested, bool? Sufficient, double AllocationsPerMinute, long? ExhaustionEtaSeconds);

internal static class CapacityApi
{
    private const int MaxCount = 1_000_000;

    public static IServiceCollection AddCapacity(this IServiceCollection services) => services.AddSingleton<CapacityService>();

    public static RouteHandlerBuilder MapCapacity(this IEndpointRouteBuilder app, string basePath) =>
        app.MapGet(basePath + "/capacity", GetAsync)
            .RequireAuthorization(policy => policy.RequireRole(BrokerRoles.Track, BrokerRoles.Admin))
            .WithTags("Capacity")
            .WithName("Capacity")
            .WithSummary("Will my event fit? Available and reserved sandboxes, allocation rate over 10 minutes and time to exhaustion")
            .WithDescription("From counts, at most 5 s stale. count: how many the event needs (sufficient = available >= count). exhaustion_eta_seconds is null when nothing was allocated in the last 10 minutes.")
            .Produces<CapacityResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesEdgeProblems();

    private static async Task<IResult> GetAsync(
        [FromQuery(Name = "name_prefix")] string? namePrefix, [FromQuery(Name = "count")] string? count, CapacityService capacity,
        HttpContext context, CancellationToken ct)
    {
        var prefix = string.IsNullOrEmpty(namePrefix) ? null : namePrefix;
        if (prefix is not null && !InputRules.IsValidPrefix(prefix))
        {
            return Problems.BadRequest(InputRules.Describe("name_prefix", InputRules.MaxPrefixLength));
        }

        // A scoped track token counts only inside its prefixes (SPEC 11.3): its first one by default.
        if (context.Features.Get<BrokerTokenFeature>()?.Token is { IsScoped: true } token)
        {
            prefix ??= token.NamePrefixes[0];
            if (!token.Covers(prefix))
            {
                return Problems.Result(StatusCodes.Status403Forbidden, ErrorCodes.Forbidden,
                    $"name_prefix '{prefix}' is outside the scope of token '{token.Name}'.");
            }
        }

        int? requested = null;
        if (!string.IsNullOrEmpty(count))
        {
            if (!int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > MaxCount)
            {
                return Problems.BadRequest($"count must be an integer from 0 to {MaxCount}.");
            }

            requested = n;
        }

        var s = await capacity.GetAsync(prefix, ct);
        return TypedResults.Ok(new CapacityResponse(
            s.NamePrefix, s.Available, s.Reserved, requested, requested is { } r ? s.Available >= r : null, s.AllocationsPerMinute, s.ExhaustionEtaSeconds));
    }
}

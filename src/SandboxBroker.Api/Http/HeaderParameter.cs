namespace SandboxBroker.Api.Http;

/// <summary>
/// Endpoint metadata: a request header the handler reads (and validates in code), so the OpenAPI document can list
/// it as a header parameter and a generated client can send it.
/// </summary>
public sealed record HeaderParameter(string Name, string Description, bool Deprecated = false);

internal static class HeaderParameterExtensions
{
    /// <summary>The participant, as every track operation reads it (the legacy header stays accepted).</summary>
    public static TBuilder WithRequesterHeaders<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(
            new HeaderParameter(TrackHeaders.Requester,
                $"The participant (Instruqt's sandbox id); it owns what it allocates. Required unless {TrackHeaders.LegacyRequester} is sent. " +
                $"1-{InputRules.MaxIdLength} printable ASCII characters without spaces."),
            new HeaderParameter(TrackHeaders.LegacyRequester, $"The original broker's name for {TrackHeaders.Requester}.", Deprecated: true));

    /// <summary>Every problem the edge can answer for a protected operation, whatever the handler does.</summary>
    public static TBuilder ProducesEdgeProblems<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status500InternalServerError)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
}

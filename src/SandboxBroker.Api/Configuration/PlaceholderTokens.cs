namespace SandboxBroker.Api.Configuration;

/// <summary>
/// Token values that ship in this repository (appsettings.Development.json, docs, the compose file's and CI's
/// former defaults): publicly known, so Production refuses them in any form, as secret or as its SHA-256.
/// A test scans the repository for token values and fails when one is missing here.
/// </summary>
public static class PlaceholderTokens
{
    public static readonly IReadOnlyList<string> All =
    [
        BrokerOptions.DevelopmentTrackToken,
        BrokerOptions.DevelopmentAdminToken,
        "compose-track-token",
        "compose-admin-token",
        "ci-track-token-0123456789",
        "ci-admin-token-0123456789",
        "compose-csp-token", // the compose CSP stub's token: public, so never a broker secret either
    ];

    /// <summary>Production's minimum secret length.</summary>
    public const int MinimumProductionLength = 16;
}

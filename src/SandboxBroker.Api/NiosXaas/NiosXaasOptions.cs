using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using SandboxBroker.Api.Csp;

namespace SandboxBroker.Api.NiosXaas;

/// <summary>
/// Section "NiosXaas": the pre-delete step that removes NIOS-X-as-a-Service universal services from a sandbox account
/// before the account is deleted (SPEC 12). Original environment names: NIOSXAAS_ENABLED, NIOSXAAS_BASE_URL,
/// NIOSXAAS_EMAIL, NIOSXAAS_PASSWORD, NIOSXAAS_SERVICE_NAME, NIOSXAAS_TIMEOUT_SEC, NIOSXAAS_SHADOW_MODE.
/// </summary>
public sealed class NiosXaasOptions
{
    public const string SectionName = "NiosXaas";

    public bool Enabled { get; set; }

    [Required, Url]
    public string BaseUrl { get; set; } = "https://csp.infoblox.com";

    /// <summary>Secret: required when enabled; never logged.</summary>
    public string Email { get; set; } = "";

    /// <summary>Secret: required when enabled; never logged.</summary>
    public string Password { get; set; } = "";

    /// <summary>Services with this name are deleted; empty deletes every service of the account.</summary>
    public string ServiceName { get; set; } = "Instrqt-SaaS";

    /// <summary>Per HTTP call.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>List and record what would be deleted, delete nothing (the default, as in the original).</summary>
    public bool ShadowMode { get; set; } = true;

    /// <summary>
    /// false (default): a failed step never holds up the account delete (deleting the account removes its services
    /// too). true: a failed step counts as a failed delete attempt and backs off.
    /// </summary>
    public bool BlockDeletionOnFailure { get; set; }

    /// <summary>The step's own breaker, separate from the CSP one (its opening never stops account deletion).</summary>
    public CircuitBreakerOptions CircuitBreaker { get; set; } = new();
}

/// <summary>Enabled without credentials refuses to start: a step that can never sign in would fail every sandbox.</summary>
internal sealed class NiosXaasOptionsValidator : IValidateOptions<NiosXaasOptions>
{
    public ValidateOptionsResult Validate(string? name, NiosXaasOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var missing = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Email))
        {
            missing.Add("NiosXaas:Email (NIOSXAAS_EMAIL)");
        }

        if (string.IsNullOrWhiteSpace(options.Password))
        {
            missing.Add("NiosXaas:Password (NIOSXAAS_PASSWORD)");
        }

        return missing.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"NiosXaas:Enabled (NIOSXAAS_ENABLED) is true but {string.Join(" and ", missing)} is not set");
    }
}

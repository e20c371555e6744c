using System.ComponentModel.DataAnnotations;

namespace SandboxBroker.Api.Http;

/// <summary>Section "RateLimiting".</summary>
public sealed class RateLimitingOptions : IValidatableObject
{
    public const string SectionName = "RateLimiting";

    public bool Enabled { get; set; } = true;

    /// <summary>Steady rate of one caller's bucket (token and requester); sent as X-RateLimit-Limit.</summary>
    [Range(1, 1_000_000)]
    public int PermitsPerSecond { get; set; } = 50;

    /// <summary>Size of one caller's bucket: how many requests it may send at once after a quiet spell.</summary>
    [Range(1, 10_000_000)]
    public int Burst { get; set; } = 200;

    /// <summary>
    /// Ceiling over every caller of one token (a bucket of this size, refilled at this rate), so rotating the
    /// requester header cannot lift a token's limit; far above what a class of 200 participants sends.
    /// </summary>
    [Range(1, 10_000_000)]
    public int PerTokenPermitsPerSecond { get; set; } = 2000;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (PerTokenPermitsPerSecond < PermitsPerSecond)
        {
            yield return new ValidationResult(
                "RateLimiting:PerTokenPermitsPerSecond must not be lower than RateLimiting:PermitsPerSecond.",
                [nameof(PerTokenPermitsPerSecond)]);
        }
    }
}

using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Csp;

/// <summary>
/// The ENG CSP as the broker needs it. One HTTP attempt per call: retries belong to the cleanup
/// worker's per-sandbox backoff. Failures throw <see cref="CspException"/>; an open circuit throws Polly's
/// BrokenCircuitException (callers never inspect the circuit before calling).
/// </summary>
public interface ICspProvider
{
    /// <summary>Live or Simulated, for logs and readiness.</summary>
    string Mode { get; }

    /// <summary>
    /// The whole upstream account list, every page, or an exception: a list that could not be read completely is
    /// never returned, so nothing is marked stale or removed on the strength of a missing page.
    /// </summary>
    Task<UpstreamListing> ListSandboxesAsync(CancellationToken ct);

    /// <summary>Deletes one sandbox account upstream; 2xx and 404 are success.</summary>
    Task DeleteSandboxAsync(Sandbox sandbox, CancellationToken ct);
}

/// <summary>The CSP answered with an error, a malformed body, or not at all.</summary>
public sealed class CspException(string message, int? statusCode = null, Exception? inner = null) : Exception(message, inner)
{
    public int? StatusCode { get; } = statusCode;

    /// <summary>
    /// An upstream fault the circuit breaker counts: 5xx, 429, a timeout, a connection failure or a malformed body.
    /// Other answers (401, 403, 400...) are errors too, but say nothing about CSP's health.
    /// </summary>
    public bool CountsAsFailure { get; init; }

    /// <summary>The CSP's Retry-After (429/503), when it sent one.</summary>
    public TimeSpan? RetryAfter { get; init; }
}

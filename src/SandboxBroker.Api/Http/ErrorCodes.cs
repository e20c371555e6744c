namespace SandboxBroker.Api.Http;

/// <summary>The `code` extension member of every problem body.</summary>
public static class ErrorCodes
{
    public const string ValidationError = "VALIDATION_ERROR";
    public const string MissingSandboxId = "MISSING_SANDBOX_ID";
    public const string Unauthorized = "UNAUTHORIZED";
    public const string Forbidden = "FORBIDDEN";
    public const string NotSandboxOwner = "NOT_SANDBOX_OWNER";
    public const string SandboxNotFound = "SANDBOX_NOT_FOUND";
    public const string RunNotFound = "RUN_NOT_FOUND";
    public const string NotFound = "NOT_FOUND";
    public const string MethodNotAllowed = "METHOD_NOT_ALLOWED";
    public const string PayloadTooLarge = "PAYLOAD_TOO_LARGE";
    public const string UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE";
    public const string NoSandboxesAvailable = "NO_SANDBOXES_AVAILABLE";
    public const string InvalidState = "INVALID_STATE";
    public const string LeaseLimitReached = "LEASE_LIMIT_REACHED";
    public const string InsufficientCapacity = "INSUFFICIENT_CAPACITY";
    public const string ReservationNotFound = "RESERVATION_NOT_FOUND";
    public const string RateLimitExceeded = "RATE_LIMIT_EXCEEDED";
    public const string AllocationQuotaExceeded = "ALLOCATION_QUOTA_EXCEEDED";
    public const string UpstreamError = "UPSTREAM_ERROR";
    public const string InternalError = "INTERNAL_ERROR";
    public const string ServiceUnavailable = "SERVICE_UNAVAILABLE";
    public const string Maintenance = "MAINTENANCE";

    /// <summary>The code for a status the framework produced on its own (routing 404, 405, 413, ...).</summary>
    public static string ForStatus(int status) => status switch
    {
        400 => ValidationError,
        401 => Unauthorized,
        403 => Forbidden,
        404 => NotFound,
        405 => MethodNotAllowed,
        413 => PayloadTooLarge,
        415 => UnsupportedMediaType,
        429 => RateLimitExceeded,
        502 => UpstreamError,
        503 => ServiceUnavailable,
        >= 500 => InternalError,
        _ => "HTTP_" + status,
    };
}

using System.Globalization;
using Microsoft.AspNetCore.Mvc;

namespace SandboxBroker.Api.Http;

/// <summary>
/// The only error shape: RFC 9457 problem+json with `code`, `request_id` and, where a retry makes sense,
/// `retry_after` (also sent as the Retry-After header).
/// </summary>
public static class Problems
{
    public static IResult Result(int status, string code, string detail, int? retryAfterSeconds = null) =>
        new ProblemResult(status, code, detail, retryAfterSeconds);

    public static IResult BadRequest(string detail, string code = ErrorCodes.ValidationError) => Result(400, code, detail);

    public static IResult NotFound(string detail) => Result(404, ErrorCodes.SandboxNotFound, detail);

    public static IResult NotOwner(string detail) => Result(403, ErrorCodes.NotSandboxOwner, detail);

    public static IResult Unavailable(string detail, int retryAfterSeconds = 1) =>
        Result(503, ErrorCodes.ServiceUnavailable, detail, retryAfterSeconds);

    /// <summary>
    /// The one problem `type` scheme of the whole API (SPEC 17): a URN per stable code, e.g.
    /// urn:sandbox-broker:problem:NO_SANDBOXES_AVAILABLE. Clients branch on it (or on `code`); nothing to dereference.
    /// </summary>
    public static string TypeOf(string code) => "urn:sandbox-broker:problem:" + code;

    /// <summary>Builds the problem body; also used by middleware that writes responses directly.</summary>
    public static ProblemDetails Create(HttpContext context, int status, string code, string? detail, int? retryAfterSeconds = null)
    {
        var problem = new ProblemDetails
        {
            Status = status,
            Title = Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status),
            Detail = detail,
            Type = TypeOf(code),
        };
        problem.Extensions["code"] = code;
        problem.Extensions["request_id"] = context.TraceIdentifier;
        if (retryAfterSeconds is { } retry)
        {
            problem.Extensions["retry_after"] = retry;
        }

        return problem;
    }

    /// <summary>Writes a problem response directly (for middleware and authentication handlers).</summary>
    public static Task WriteAsync(HttpContext context, int status, string code, string? detail, int? retryAfterSeconds = null)
    {
        context.Response.StatusCode = status;
        if (retryAfterSeconds is { } retry)
        {
            context.Response.Headers.RetryAfter = retry.ToString(CultureInfo.InvariantCulture);
        }

        var problem = Create(context, status, code, detail, retryAfterSeconds);
        return context.Response.WriteAsJsonAsync(problem, ProblemJson.Options, "application/problem+json", context.RequestAborted);
    }

    private sealed class ProblemResult(int status, string code, string detail, int? retryAfterSeconds) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => status;

        public Task ExecuteAsync(HttpContext httpContext) => WriteAsync(httpContext, status, code, detail, retryAfterSeconds);
    }
}

internal static class ProblemJson
{
    public static readonly System.Text.Json.JsonSerializerOptions Options = new(System.Text.Json.JsonSerializerDefaults.Web);
}

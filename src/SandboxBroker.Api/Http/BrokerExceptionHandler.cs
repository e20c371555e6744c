using Microsoft.AspNetCore.Diagnostics;
using Polly.CircuitBreaker;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Http;

/// <summary>
/// The unexpected, mapped in one place: store unavailable → 503 Retry-After; open CSP circuit → 503 with the
/// circuit's retry time; malformed requests the framework rejected → 400/413; a client that went away is not an
/// error; anything else → 500 INTERNAL_ERROR with no internals in the body.
/// </summary>
internal sealed partial class BrokerExceptionHandler(ILogger<BrokerExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                LogClientGone(logger, context.Request.Path);
                context.Response.StatusCode = 499;
                return true;
            case StoreUnavailableException store:
                LogStoreUnavailable(logger, store.Message);
                await Problems.WriteAsync(context, 503, ErrorCodes.ServiceUnavailable, "The store is unavailable; retry shortly.", 1);
                return true;
            case BrokenCircuitException broken:
                var retry = (int)Math.Ceiling((broken.RetryAfter ?? TimeSpan.FromSeconds(30)).TotalSeconds);
                await Problems.WriteAsync(context, 503, ErrorCodes.ServiceUnavailable, "The CSP circuit is open; retry later.", Math.Max(1, retry));
                return true;
            case BadHttpRequestException bad:
                await Problems.WriteAsync(context, bad.StatusCode, ErrorCodes.ForStatus(bad.StatusCode), "The request is malformed.");
                return true;
            default:
                LogUnhandled(logger, exception);
                await Problems.WriteAsync(context, 500, ErrorCodes.InternalError, "An unexpected error occurred.");
                return true;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Client went away during {Path}")]
    private static partial void LogClientGone(ILogger logger, PathString path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Store unavailable: {Reason}")]
    private static partial void LogStoreUnavailable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception")]
    private static partial void LogUnhandled(ILogger logger, Exception exception);
}

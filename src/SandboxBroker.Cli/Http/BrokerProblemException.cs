namespace SandboxBroker.Cli.Http;

/// <summary>The broker answered 4xx/5xx: its problem body's code, detail and request id (for the operator and the logs).</summary>
internal sealed class BrokerProblemException : Exception
{
    public BrokerProblemException()
    {
    }

    public BrokerProblemException(string message)
        : base(message)
    {
    }

    public BrokerProblemException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public BrokerProblemException(int status, string code, string? detail, string? requestId, string method, string path)
        : base($"{status} {code}: {detail}")
    {
        Status = status;
        Code = code;
        Detail = detail;
        RequestId = requestId;
        Method = method;
        Path = path;
    }

    public int Status { get; }

    public string Code { get; } = "UNKNOWN";

    public string? Detail { get; }

    public string? RequestId { get; }

    public string Method { get; } = string.Empty;

    public string Path { get; } = string.Empty;

    /// <summary>A 404 the router gave (no such endpoint), not one about a sandbox, run or reservation.</summary>
    public bool IsMissingEndpoint => Status == 404 && Code == "NOT_FOUND";
}

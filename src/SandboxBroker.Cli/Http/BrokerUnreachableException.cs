namespace SandboxBroker.Cli.Http;

/// <summary>No answer from the broker at all (refused, unknown host, timeout, TLS): said in one line, no stack trace.</summary>
internal sealed class BrokerUnreachableException : Exception
{
    public BrokerUnreachableException()
    {
    }

    public BrokerUnreachableException(string message)
        : base(message)
    {
    }

    public BrokerUnreachableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

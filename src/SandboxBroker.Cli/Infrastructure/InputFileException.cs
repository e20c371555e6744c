namespace SandboxBroker.Cli.Infrastructure;

/// <summary>A file the operator gave cannot be used (missing, unreadable, a bad row): said with its name and line; exit 1.</summary>
internal sealed class InputFileException : Exception
{
    public InputFileException()
    {
    }

    public InputFileException(string message)
        : base(message)
    {
    }

    public InputFileException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

namespace SandboxBroker.Cli;

/// <summary>What scripts can rely on: 0 success, 1 the broker or the input refused or failed, 2 the command line was wrong.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
}

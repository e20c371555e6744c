using System.CommandLine;

namespace SandboxBroker.Cli.Infrastructure;

/// <summary>
/// Every line the CLI prints goes through here, so the token can never reach the screen or a log: whatever text
/// contains it (an echoed argument, a server message) has it replaced by ***.
/// </summary>
internal sealed class Terminal(string? secret)
{
    private const string Mask = "***";

    /// <summary>Whether stderr is a terminal a progress line may redraw in place.</summary>
    public static bool ErrorIsInteractive => !Console.IsErrorRedirected;

    public static Terminal ForUsageErrors(ParseResult parsed)
    {
        string? token = null;
        try
        {
            token = parsed.GetValue(GlobalOptions.Token);
        }
        catch (InvalidOperationException)
        {
            // the value itself did not parse; the environment's token is still masked
        }

        return new Terminal(string.IsNullOrEmpty(token) ? Environment.GetEnvironmentVariable(GlobalOptions.TokenVariable) : token);
    }

    public void Out(string line) => Console.Out.WriteLine(Redact(line));

    public void Error(string line) => Console.Error.WriteLine(Redact(line));

    /// <summary>Writes without a newline on stderr (a progress line redrawn with \r).</summary>
    public void ErrorInPlace(string text) => Console.Error.Write(Redact(text));

    public string Redact(string text) =>
        string.IsNullOrEmpty(secret) ? text : text.Replace(secret, Mask, StringComparison.Ordinal);
}

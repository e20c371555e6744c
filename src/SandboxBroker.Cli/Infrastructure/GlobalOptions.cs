using System.CommandLine;

namespace SandboxBroker.Cli.Infrastructure;

/// <summary>The options every command takes (recursive, so they may stand before or after the command name).</summary>
internal static class GlobalOptions
{
    public const string UrlVariable = "SANDBOX_BROKER_URL";
    public const string TokenVariable = "SANDBOX_BROKER_TOKEN";

    /// <summary>Where `dotnet run --project src/SandboxBroker.Api` listens.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    public static readonly Option<string?> Url = new("--url")
    {
        Description = $"Broker URL, e.g. https://broker.example.com (default: ${UrlVariable}, else {DefaultUrl}); /v1 is added when the URL has no path",
        Recursive = true,
    };

    public static readonly Option<string?> Token = new("--token")
    {
        Description = $"Admin token (default: ${TokenVariable}; prefer the variable: a command line is visible to other users). Never printed",
        Recursive = true,
    };

    /// <summary>
    /// Not recursive: each command that prints data adds it (see <see cref="AddJsonTo"/>), because `register` takes
    /// `--json FILE` as its input, as the spec names it.
    /// </summary>
    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print JSON for scripts instead of tables",
    };

    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Print each HTTP request and its status, time and request id on stderr (never the token)",
        Recursive = true,
    };

    public static void AddTo(RootCommand root)
    {
        root.Add(Url);
        root.Add(Token);
        root.Add(Verbose);
    }

    public static TCommand AddJsonTo<TCommand>(TCommand command)
        where TCommand : Command
    {
        command.Add(Json);
        return command;
    }
}

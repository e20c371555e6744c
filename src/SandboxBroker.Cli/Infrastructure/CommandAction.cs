using System.CommandLine;
using SandboxBroker.Cli.Http;

namespace SandboxBroker.Cli.Infrastructure;

/// <summary>
/// Runs a command body with a connected <see cref="CliContext"/> and turns every expected failure into one line on
/// stderr and an exit code: a broker problem (with its code and request_id), an unreachable broker, a bad input
/// file. No stack trace reaches the operator.
/// </summary>
internal static class CommandAction
{
    public delegate Task<int> Body(CliContext context, ParseResult parsed, CancellationToken ct);

    public static void Set(Command command, Body body) =>
        command.SetAction((parsed, ct) => RunAsync(parsed, body, ct));

    private static async Task<int> RunAsync(ParseResult parsed, Body body, CancellationToken ct)
    {
        var token = FirstSet(parsed.GetValue(GlobalOptions.Token), Environment.GetEnvironmentVariable(GlobalOptions.TokenVariable));
        var terminal = new Terminal(token);
        var urlText = FirstSet(parsed.GetValue(GlobalOptions.Url), Environment.GetEnvironmentVariable(GlobalOptions.UrlVariable)) ?? GlobalOptions.DefaultUrl;
        var root = BrokerEndpoint.TryParse(urlText, out var urlError);
        if (root is null)
        {
            terminal.Error("error: " + urlError);
            return ExitCodes.Usage;
        }

        if (token is null)
        {
            terminal.Error($"error: no admin token: pass --token or set {GlobalOptions.TokenVariable}.");
            return ExitCodes.Usage;
        }

        if (token.Any(c => c is < '!' or > '~'))
        {
            terminal.Error("error: the admin token has characters an HTTP header cannot carry (spaces, control or non-ASCII characters).");
            return ExitCodes.Usage;
        }

        using var broker = new BrokerClient(root, token, terminal, parsed.GetValue(GlobalOptions.Verbose));
        var context = new CliContext(broker, terminal, parsed.GetValue(GlobalOptions.Json));
        try
        {
            return await body(context, parsed, ct);
        }
        catch (BrokerProblemException problem)
        {
            terminal.Error($"error: {problem.Status} {problem.Code}: {problem.Detail ?? "(no detail)"}");
            terminal.Error($"  request_id: {problem.RequestId ?? "(none)"}  ({problem.Method} {new Uri(root, problem.Path)})");
            return ExitCodes.Failure;
        }
        catch (BrokerUnreachableException unreachable)
        {
            terminal.Error("error: " + unreachable.Message);
            return ExitCodes.Failure;
        }
        catch (InputFileException input)
        {
            terminal.Error("error: " + input.Message);
            return ExitCodes.Failure;
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or System.Text.Json.JsonException)
        {
            // A 2xx whose body is not the shape this CLI knows (another service at that URL, or a much newer broker).
            terminal.Error($"error: unexpected answer from the broker at {root}: {ex.Message}");
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            terminal.Error("cancelled.");
            return ExitCodes.Failure;
        }
    }

    private static string? FirstSet(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrEmpty(v));
}

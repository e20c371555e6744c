using SandboxBroker.Cli.Http;

namespace SandboxBroker.Cli.Infrastructure;

/// <summary>What a command needs: the broker, the terminal, and whether to print JSON.</summary>
internal sealed class CliContext(BrokerClient broker, Terminal terminal, bool json)
{
    public BrokerClient Broker { get; } = broker;

    public Terminal Terminal { get; } = terminal;

    public bool Json { get; } = json;

    /// <summary>Prints a broker answer as it came (--json).</summary>
    public void WriteJson(System.Text.Json.Nodes.JsonNode? node) => Terminal.Out(Formats.Json(node));
}

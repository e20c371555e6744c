using System.Text.Json.Nodes;

namespace SandboxBroker.Cli.Http;

/// <summary>A 2xx answer: its status (200 vs 202 matters for job triggers), JSON body and Location.</summary>
internal sealed record BrokerReply(int Status, JsonNode? Body, Uri? Location);

using System.Text.Json.Nodes;

namespace SandboxBroker.Cli.Registration;

/// <summary>One sandbox to register, with where it came from in the file (for error messages).</summary>
internal sealed record SandboxRow(string SandboxId, string Name, string ExternalId, string? SfdcAccountId, string Where)
{
    public JsonObject ToJson()
    {
        var item = new JsonObject { ["sandbox_id"] = SandboxId, ["name"] = Name, ["external_id"] = ExternalId };
        if (!string.IsNullOrEmpty(SfdcAccountId))
        {
            item["sfdc_account_id"] = SfdcAccountId;
        }

        return item;
    }
}

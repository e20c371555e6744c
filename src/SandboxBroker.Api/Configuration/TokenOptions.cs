namespace SandboxBroker.Api.Configuration;

/// <summary>
/// One structured token, section "Broker:Tokens:&lt;name&gt;" (SPEC 11.3). The name is the key; it, never the
/// secret, appears in logs, history and admin views, and stays the same across a rotation.
/// </summary>
public sealed class TokenOptions
{
    /// <summary>"track" or "admin".</summary>
    public string? Role { get; set; }

    /// <summary>The secret itself; or, instead, <see cref="Sha256"/>.</summary>
    public string? Secret { get; set; }

    /// <summary>Hex SHA-256 of the secret's UTF-8 bytes, so configuration need not hold the secret.</summary>
    public string? Sha256 { get; set; }

    /// <summary>Track tokens only: the sandbox name prefixes this token may allocate, read and count.</summary>
    public List<string> NamePrefixes { get; set; } = [];

    /// <summary>Track tokens only: new allocations a minute; unset = Broker:DefaultAllocationsPerMinute.</summary>
    public int? AllocationsPerMinute { get; set; }
}

namespace SandboxBroker.Api.Observability;

/// <summary>
/// One line of the service info at GET / that a feature registers about itself (e.g. the CSP mode), so the probe
/// endpoints need not know the features.
/// </summary>
public sealed record ServiceFact(string Name, string Value);

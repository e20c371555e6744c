namespace SandboxBroker.DeployTests.Infrastructure;

/// <summary>
/// The container contract (port, probes, metrics) that deployment files repeat: the port, the probe paths and the
/// metrics path. AppContractTests proves each against the running broker, so these are checked values, not copies.
/// </summary>
internal static class Contract
{
    public const int ContainerPort = 8080;
    public const string LivenessPath = "/healthz";
    public const string ReadinessPath = "/readyz";
    public const string MetricsPath = "/metrics";
}

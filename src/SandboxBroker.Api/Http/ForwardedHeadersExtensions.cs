using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using IPNetwork = System.Net.IPNetwork;

namespace SandboxBroker.Api.Http;

/// <summary>
/// Section "Edge": the networks whose X-Forwarded-For / X-Forwarded-Proto the broker believes (the load balancer's
/// subnets: in AWS the VPC range). Empty trusts nobody: the client address is the TCP peer.
/// </summary>
public sealed class EdgeOptions : IValidatableObject
{
    public const string SectionName = "Edge";

    /// <summary>CIDR ranges such as 10.0.0.0/16 (IPv4 or IPv6).</summary>
    public List<string> KnownNetworks { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var network in KnownNetworks.Where(n => !IPNetwork.TryParse(n.Trim(), out _)))
        {
            yield return new ValidationResult(
                $"Edge:KnownNetworks: '{network}' is not a CIDR range (e.g. 10.0.0.0/16).", [nameof(KnownNetworks)]);
        }
    }
}

/// <summary>
/// Behind the ALB every connection comes from a load-balancer node, so without this the per-IP bucket of
/// unauthenticated requests would be shared by every client behind one node, and log lines would name the node.
/// Only the last hop is taken (ForwardLimit 1) and only from a known network, so a client cannot choose its address.
/// </summary>
internal static class ForwardedHeadersExtensions
{
    public static IServiceCollection AddForwardedHeadersFromKnownNetworks(this IServiceCollection services)
    {
        services.AddOptions<EdgeOptions>().BindConfiguration(EdgeOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<EdgeOptions>>((forwarded, edge) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            forwarded.ForwardLimit = 1;
            forwarded.KnownProxies.Clear();      // the default trusts loopback; nothing is trusted unless configured
            forwarded.KnownIPNetworks.Clear();
            foreach (var network in edge.Value.KnownNetworks)
            {
                forwarded.KnownIPNetworks.Add(IPNetwork.Parse(network.Trim()));
            }
        });
        return services;
    }

    /// <summary>Only when networks are configured: the middleware with empty lists would believe every peer.</summary>
    public static IApplicationBuilder UseForwardedHeadersFromKnownNetworks(this IApplicationBuilder app) =>
        app.ApplicationServices.GetRequiredService<IOptions<EdgeOptions>>().Value.KnownNetworks.Count > 0
            ? app.UseForwardedHeaders()
            : app;
}

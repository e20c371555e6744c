using SandboxBroker.Api.Http;
using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Admin;

/// <summary>What a history event says of an operator's change: admin:&lt;token name&gt; and the request's id.</summary>
internal static class AdminCause
{
    public static ChangeCause Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new ChangeCause(BrokerRoles.ActorOf(context.User), context.TraceIdentifier);
    }

    /// <summary>Registration is its own actor; the operator who registered is the reason.</summary>
    public static ChangeCause Registration(HttpContext context) =>
        ChangeCause.Registration with { RequestId = context.TraceIdentifier, Reason = "registered by " + BrokerRoles.ActorOf(context.User) };
}

using SandboxBroker.Cli.Http;

namespace SandboxBroker.Cli.Commands;

/// <summary>
/// Capacity and reservations are newer broker features: a broker without them answers the router's 404 NOT_FOUND
/// (not a domain 404 such as RESERVATION_NOT_FOUND). The CLI then says so plainly instead of "not found".
/// </summary>
internal static class NotOffered
{
    public static async Task<T> GuardAsync<T>(string feature, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (BrokerProblemException problem) when (problem.IsMissingEndpoint)
        {
            throw new BrokerProblemException(problem.Status, problem.Code,
                $"this broker does not offer {feature} (it has no such endpoint); it needs a newer broker.",
                problem.RequestId, problem.Method, problem.Path);
        }
    }
}

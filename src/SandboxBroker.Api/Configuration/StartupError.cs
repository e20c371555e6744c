using Microsoft.Extensions.Options;

namespace SandboxBroker.Api.Configuration;

internal static class StartupError
{
    /// <summary>The message an operator needs: option validation failures are listed one by one.</summary>
    public static string Describe(Exception exception) => exception switch
    {
        OptionsValidationException options => string.Join("; ", options.Failures),
        AggregateException { InnerExceptions.Count: > 0 } aggregate => string.Join("; ", aggregate.InnerExceptions.Select(Describe)),
        _ when exception.InnerException is OptionsValidationException inner => Describe(inner),
        _ => exception.Message,
    };
}

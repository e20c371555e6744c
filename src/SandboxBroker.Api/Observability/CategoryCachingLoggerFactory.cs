using System.Collections.Concurrent;

namespace SandboxBroker.Api.Observability;

/// <summary>
/// The Serilog logger factory with one logger per category. Serilog's factory builds a new logger on every
/// <see cref="CreateLogger"/> call (a Serilog logger with its own source-context enricher and event-id cache), and
/// ASP.NET Core's authentication handler is created, and asks for its logger, on every request: about 1 KB of garbage
/// per request for a logger used only on failures. Categories are type names, so the cache stays small.
/// </summary>
internal sealed class CategoryCachingLoggerFactory(ILoggerFactory inner, bool ownsInner) : ILoggerFactory
{
    private readonly ConcurrentDictionary<string, ILogger> loggers = new(StringComparer.Ordinal);

    public ILogger CreateLogger(string categoryName) => loggers.GetOrAdd(categoryName, inner.CreateLogger);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        if (ownsInner)
        {
            inner.Dispose();
        }
    }

    /// <summary>Wraps the logger factory registered last (Serilog's) in a <see cref="CategoryCachingLoggerFactory"/>.</summary>
    public static void Decorate(IServiceCollection services)
    {
        var registered = services.Last(d => d.ServiceType == typeof(ILoggerFactory));
        services.Remove(registered);
        // The container disposed the factory it built; an instance registered as such stays its owner's to dispose.
        services.AddSingleton<ILoggerFactory>(sp => registered switch
        {
            { ImplementationInstance: ILoggerFactory instance } => new CategoryCachingLoggerFactory(instance, ownsInner: false),
            { ImplementationFactory: { } create } => new CategoryCachingLoggerFactory((ILoggerFactory)create(sp), ownsInner: true),
            _ => new CategoryCachingLoggerFactory((ILoggerFactory)ActivatorUtilities.CreateInstance(sp, registered.ImplementationType!), ownsInner: true),
        });
    }
}

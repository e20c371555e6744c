using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Tests.Observability;

/// <summary>
/// Wraps the registered <see cref="ISandboxStore"/> in a proxy that counts calls per method and can make chosen
/// methods throw. A DispatchProxy, so it keeps working when the store contract gains members.
/// </summary>
public sealed class StoreCallCounter
{
    private readonly ConcurrentDictionary<string, int> calls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Func<Exception>> failures = new(StringComparer.Ordinal);

    public int this[string method] => calls.GetValueOrDefault(method);

    public IReadOnlyDictionary<string, int> Snapshot() => new Dictionary<string, int>(calls, StringComparer.Ordinal);

    /// <summary>From now on, calls of <paramref name="method"/> throw what <paramref name="exception"/> makes.</summary>
    public void Fail(string method, Func<Exception> exception) => failures[method] = exception;

    public void Heal(string method) => failures.TryRemove(method, out _);

    /// <summary>Replaces the store registration with a counting proxy around the original.</summary>
    public void Install(IServiceCollection services)
    {
        var original = services.Last(d => d.ServiceType == typeof(ISandboxStore));
        services.Remove(original);
        services.AddSingleton(sp =>
        {
            var inner = (ISandboxStore)(original.ImplementationInstance
                ?? original.ImplementationFactory?.Invoke(sp)
                ?? ActivatorUtilities.CreateInstance(sp, original.ImplementationType!));
            var proxy = DispatchProxy.Create<ISandboxStore, CountingProxy>();
            ((CountingProxy)(object)proxy).Attach(inner, this);
            return proxy;
        });
    }

    private void Record(string method)
    {
        calls.AddOrUpdate(method, 1, (_, n) => n + 1);
        if (failures.TryGetValue(method, out var failure))
        {
            throw failure();
        }
    }

    public class CountingProxy : DispatchProxy
    {
        private ISandboxStore inner = null!;
        private StoreCallCounter counter = null!;

        internal void Attach(ISandboxStore store, StoreCallCounter owner)
        {
            inner = store;
            counter = owner;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            counter.Record(targetMethod!.Name);
            try
            {
                return targetMethod.Invoke(inner, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
                throw;
            }
        }
    }
}

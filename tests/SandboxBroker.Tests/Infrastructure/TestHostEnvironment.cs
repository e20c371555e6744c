using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;

namespace SandboxBroker.Tests.Infrastructure;

/// <summary>An <see cref="IHostEnvironment"/> of the given name, for validators that behave differently in Production.</summary>
internal sealed class TestHostEnvironment(string name) : IHostEnvironment
{
    public string EnvironmentName { get; set; } = name;
    public string ApplicationName { get; set; } = "SandboxBroker.Api";
    public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
    public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
}
